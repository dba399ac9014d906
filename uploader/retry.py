"""Retry a step on transient failures (connection reset or refused, timeouts, HTTP 5xx) with
exponential backoff; 401/403 become :class:`UploadAuthError` at once."""
from __future__ import annotations

import logging
import re
import time

import requests

from .errors import UploadAuthError, UploadError

logger = logging.getLogger("sdu.upload")


def status_of(exc: BaseException) -> int | None:
    """The HTTP status behind an xnatpy/requests error, if any."""
    if isinstance(getattr(exc, "status_code", None), int):
        return exc.status_code
    response = getattr(exc, "response", None)
    if response is not None and isinstance(getattr(response, "status_code", None), int):
        return response.status_code
    m = re.search(r"[Ss]tatus(?: code)? (\d{3})", str(exc))
    return int(m.group(1)) if m else None


def transient(exc: BaseException) -> bool:
    if isinstance(exc, requests.exceptions.SSLError):
        return False  # an untrusted certificate does not get better by retrying
    if isinstance(exc, (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError,
                        ConnectionError, TimeoutError)):
        return True
    code = status_of(exc)
    return code is not None and code >= 500 or "Connection" in type(exc).__name__


def with_retries(step: str, fn, attempts: int = 6, backoff: float = 0.5):
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except UploadError:
            raise
        except Exception as exc:  # noqa: BLE001 - classified below
            code = status_of(exc)
            if code in (401, 403):
                raise UploadAuthError(f"{step}: the server refused access ({code}): check the credentials and "
                                      "the account's access to the project") from None
            if isinstance(exc, requests.exceptions.SSLError):
                raise UploadError(f"{step}: TLS verification failed: the server's certificate is not trusted "
                                  "(give its CA with --ca-bundle; verification is never turned off)") from None
            if not transient(exc) or attempt == attempts:
                raise UploadError(f"{step}: failed after {attempt} attempt(s) ({type(exc).__name__}"
                                  f"{', HTTP ' + str(code) if code else ''})") from None
            delay = backoff * 2 ** (attempt - 1)
            logger.warning("%s: transient failure (%s), retry %d in %.1fs", step, type(exc).__name__, attempt, delay)
            time.sleep(delay)

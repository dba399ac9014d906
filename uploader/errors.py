"""Upload failures (exit code 10; 13 when the server refuses the credentials or the access)."""
from sdu.errors import SDUError


class UploadError(SDUError):
    """The upload did not complete, or the remote copy does not match the release."""

    exit_code = 10


class UploadAuthError(UploadError):
    """The server answered 401 or 403: wrong credentials, or no access to the project."""

    exit_code = 13

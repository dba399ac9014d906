"""Date/date-time shifting that keeps the precision of the input (XNAT's DicomDateTimeShifter).

``20200101120000.050`` shifted by 10 seconds is ``20200101120010.050``; ``202205`` keeps
month precision; a UTC offset suffix (``-0500``) is kept as it was.
"""
from __future__ import annotations

import re
from datetime import datetime, timedelta

_DT = re.compile(r"(\d{4})(\d{2})?(\d{2})?(\d{2})?(\d{2})?(\d{2})?(?:\.(\d{1,6}))?([+-]\d{4})?")
_UNITS = {"second": 1, "seconds": 1, "minute": 60, "minutes": 60, "hour": 3600, "hours": 3600,
          "day": 86400, "days": 86400, "week": 604800, "weeks": 604800}


class DateError(ValueError):
    """Not a DICOM DA/DT value, or an unknown unit (message never contains the value)."""


def seconds_for(increment: str, units: str) -> int:
    try:
        amount = int(str(increment).strip())
    except ValueError:
        raise DateError("increment is not a whole number") from None
    factor = _UNITS.get(str(units).strip().lower())
    if factor is None:
        raise DateError("unknown increment unit (seconds, minutes, hours, days, weeks)")  # unit may be a DICOM value
    return amount * factor


def _next(dt: datetime, present) -> datetime:
    """The start of the next span at the value's precision."""
    month, day, hour, minute, sec, frac = present
    if frac is not None:
        return dt + timedelta(microseconds=10 ** (6 - len(frac)))
    if sec is not None:
        return dt + timedelta(seconds=1)
    if minute is not None:
        return dt + timedelta(minutes=1)
    if hour is not None:
        return dt + timedelta(hours=1)
    if day is not None:
        return dt + timedelta(days=1)
    if month is not None:
        return dt.replace(year=dt.year + (dt.month == 12), month=dt.month % 12 + 1)
    return dt.replace(year=dt.year + 1)


def shift(value: str | None, seconds: int) -> str | None:
    """Shift a DA or DT string; empty stays empty, precision and offset are preserved."""
    if value is None or value.strip() == "":
        return value
    m = _DT.fullmatch(value.strip())
    if not m:
        raise DateError("value is not a DICOM date or date-time")
    year, month, day, hour, minute, sec, frac, offset = m.groups()
    micro = int((frac or "0").ljust(6, "0"))
    try:
        dt = datetime(int(year), int(month or 1), int(day or 1), int(hour or 0), int(minute or 0),
                      int(sec or 0), micro)
    except ValueError:
        raise DateError("value is not a valid calendar date") from None
    # XNAT shifts the midpoint of the span the value stands for (a date is its noon, a month its
    # middle) and writes the result back at the value's own precision
    end = _next(dt, (month, day, hour, minute, sec, frac))
    dt = dt + (end - dt) / 2 + timedelta(seconds=seconds)
    parts = [f"{dt.year:04d}"]
    for present, text in ((month, f"{dt.month:02d}"), (day, f"{dt.day:02d}"), (hour, f"{dt.hour:02d}"),
                          (minute, f"{dt.minute:02d}"), (sec, f"{dt.second:02d}")):
        if present is None:
            break
        parts.append(text)
    out = "".join(parts)
    if frac is not None:
        out += "." + f"{dt.microsecond:06d}"[: len(frac)]
    return out + (offset or "")

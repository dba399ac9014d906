"""Shifting DA and DT values by a whole number of days (Retain Longitudinal, Modified Dates)."""
from __future__ import annotations

from datetime import date, timedelta

DUMMY_DATE = "19000101"


def shift_date(value: str, days: int) -> str:
    """Shift one DA value; a value that is not a full date becomes the dummy date."""
    value = value.strip()
    if len(value) != 8 or not value.isdigit():
        return DUMMY_DATE
    try:
        d = date(int(value[:4]), int(value[4:6]), int(value[6:8])) + timedelta(days=days)
    except ValueError:
        return DUMMY_DATE
    return d.strftime("%Y%m%d")


def shift_datetime(value: str, days: int) -> str:
    """Shift one DT value, keeping its time and offset; partial precision becomes a dummy."""
    value = value.strip()
    if len(value) < 8 or not value[:8].isdigit():
        return DUMMY_DATE
    return shift_date(value[:8], days) + value[8:]


def shift_value(value, vr: str, days: int):
    """Shift a DA or DT element value (single or multi-valued, as pydicom gives it)."""
    shift = shift_date if vr == "DA" else shift_datetime
    if isinstance(value, (list, tuple)) or hasattr(value, "__iter__") and not isinstance(value, (str, bytes)):
        return [shift(str(v), days) for v in value]
    return shift(str(value), days) if value not in (None, "") else value

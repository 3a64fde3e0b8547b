"""Dates of visits and birth: parsing as clinicians and DICOM write them, and age on a day.

Shared by the GUI's visit form and the command line, so both derive the same age from a birth
date (the MCI model takes the age at the last visit).
"""

from __future__ import annotations

import re
from datetime import date


def parse_date(text: str) -> date | None:
    """YYYY-MM-DD, YYYYMMDD (DICOM) or YYYY/MM/DD; None otherwise."""
    match = re.fullmatch(r"\s*(\d{4})[-/.]?(\d{2})[-/.]?(\d{2})\s*", text or "")
    if not match:
        return None
    try:
        return date(*(int(g) for g in match.groups()))
    except ValueError:
        return None


def age_on(birth_date: str | None, day: str | date | None = None) -> float | None:
    """Age in years (one decimal) on ``day`` (default today) from a birth date, or None."""
    born = parse_date(birth_date or "")
    when = parse_date(day) if isinstance(day, str) else (day or date.today())
    if born is None or when is None or when < born:
        return None
    return round((when - born).days / 365.25, 1)

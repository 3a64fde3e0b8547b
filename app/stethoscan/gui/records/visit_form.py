"""Checking what a clinician typed for a visit or the patient's details (Qt-free).

Every check returns a sentence saying what is wrong and what is allowed, keyed by field, so the
form can show it next to the field. Nothing with an error is saved.
Ranges: MMSE and MoCA whole numbers 0-30; CDR one of 0, 0.5, 1, 2, 3; age 18-120 years;
education 0-30 years; dates not in the future.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from stethoscan.records.visit_dates import parse_date

CDR_VALUES = (0.0, 0.5, 1.0, 2.0, 3.0)
SCORE_RANGES = {"mmse": ("MMSE", 0, 30), "moca": ("MoCA", 0, 30)}
AGE_RANGE_YEARS = (18.0, 120.0)
EDUCATION_RANGE_YEARS = (0.0, 30.0)


@dataclass
class CheckedVisit:
    """A visit ready for ``store.add_visit``, or the reasons it is not."""

    visit_date: str = ""
    age_years: float | None = None
    mmse: float | None = None
    moca: float | None = None
    cdr: float | None = None
    other: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors

    def store_kwargs(self) -> dict[str, Any]:
        return {"age_years": self.age_years, "mmse": self.mmse, "moca": self.moca,
                "cdr": self.cdr, "other": self.other}  # fmt: skip


def _number(text: str) -> float | None:
    """``text`` as a number (a comma is read as a decimal point); None when it is not one."""
    try:
        value = float(text.strip().replace(",", "."))
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def check_score(key: str, text: str) -> tuple[float | None, str]:
    """(value or None when empty, error sentence or "")."""
    name, low, high = SCORE_RANGES[key]
    if not text.strip():
        return None, ""
    value = _number(text)
    if value is None or value != int(value) or not low <= value <= high:
        return None, f"{name} must be a whole number from {low} to {high} (you entered {text.strip()})."
    return value, ""


def check_age(text: str) -> tuple[float | None, str]:
    if not text.strip():
        return None, ""
    value = _number(text)
    low, high = AGE_RANGE_YEARS
    if value is None or not low <= value <= high:
        return None, f"Age must be a number of years from {low:g} to {high:g} (you entered {text.strip()})."
    return round(value, 1), ""


def check_other(text: str) -> tuple[dict[str, float], str]:
    """``name=value`` pairs separated by ``;`` (e.g. ``GDS=3; ADAS-Cog=12``)."""
    scores: dict[str, float] = {}
    for part in filter(None, (p.strip() for p in (text or "").split(";"))):
        name, sep, raw = part.partition("=")
        value = _number(raw) if sep else None
        if not name.strip() or value is None:
            return {}, (f"Other scores: '{part}' is not a name=value pair. Write them like "
                        "GDS=3; ADAS-Cog=12.")  # fmt: skip
        scores[name.strip()] = value
    return scores, ""


def check_visit(visit_date: str, age: str, mmse: str, moca: str, cdr: float | None, other: str,
                today: date | None = None) -> CheckedVisit:  # fmt: skip
    """Check every field of the visit form; see the module docstring for the ranges."""
    out = CheckedVisit()
    day = parse_date(visit_date)
    if day is None:
        out.errors["visit_date"] = "Enter the visit date as YYYY-MM-DD."
    elif day > (today or date.today()):
        out.errors["visit_date"] = f"The visit date {day.isoformat()} is in the future."
    else:
        out.visit_date = day.isoformat()
    out.age_years, error = check_age(age)
    if error:
        out.errors["age_years"] = error
    for key, text in (("mmse", mmse), ("moca", moca)):
        value, error = check_score(key, text)
        setattr(out, key, value)
        if error:
            out.errors[key] = error
    if cdr is not None and float(cdr) not in CDR_VALUES:
        out.errors["cdr"] = "CDR must be 0, 0.5, 1, 2 or 3."
    out.cdr = None if cdr is None else float(cdr)
    out.other, error = check_other(other)
    if error:
        out.errors["other"] = error
    empty = all(v is None for v in (out.mmse, out.moca, out.cdr)) and not out.other
    if empty and not {"mmse", "moca", "other"} & set(out.errors):
        out.errors["scores"] = "Enter at least one score (MMSE, MoCA, CDR or another)."
    return out


def check_education(text: str) -> tuple[float | None, str]:
    if not text.strip():
        return None, ""
    value = _number(text)
    low, high = EDUCATION_RANGE_YEARS
    if value is None or not low <= value <= high:
        return None, f"Years of education must be from {low:g} to {high:g} (you entered {text.strip()})."
    return value, ""


def format_other(other: dict[str, Any]) -> str:
    return "; ".join(f"{k}={v:g}" if isinstance(v, int | float) else f"{k}={v}" for k, v in other.items())

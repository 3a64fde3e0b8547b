"""How well automatic breathing cycles agree with a reference (an expert's annotation).

- ``reference_rate_bpm``: the breathing rate the reference implies, as a clinician counts it:
  whole annotated cycles over the time they span (cycles cut by the recording's start or end are
  left out: they are not whole breaths).
- ``boundary_f1``: cycle boundaries matched one to one within a tolerance (0.5 s), nearest first;
  the F1 of that matching.
"""

from __future__ import annotations

from collections.abc import Iterable

EDGE_S = 0.1  # a cycle starting or ending this close to the recording's edge is cut by it
TOLERANCE_S = 0.5


def reference_rate_bpm(cycles: Iterable[tuple[float, float]], duration_s: float,
                       edge_s: float = EDGE_S) -> float | None:
    """Breaths/min implied by reference cycles ``(start_s, end_s)``; None without a whole cycle."""
    whole = [(s, e) for s, e in cycles if s > edge_s and e < duration_s - edge_s and e > s]
    span = sum(e - s for s, e in whole)
    return 60.0 * len(whole) / span if whole else None


def cycle_boundaries(cycles: Iterable[tuple[float, ...]]) -> list[float]:
    """The distinct start and end times (s) of cycles, sorted (to the millisecond)."""
    return sorted({round(float(v), 3) for c in cycles for v in c[:2]})


def boundary_f1(predicted: list[float], reference: list[float], tol_s: float = TOLERANCE_S) -> float:
    """F1 of boundaries matched one-to-one within ``tol_s`` (greedy, nearest first)."""
    unused = list(reference)
    hits = 0
    for p in predicted:
        if not unused:
            break
        nearest = min(unused, key=lambda r: abs(r - p))
        if abs(nearest - p) <= tol_s:
            hits += 1
            unused.remove(nearest)
    if hits == 0:
        return 0.0
    precision, recall = hits / len(predicted), hits / len(reference)
    return 2 * precision * recall / (precision + recall)

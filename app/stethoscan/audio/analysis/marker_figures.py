"""Breathing rate, I/E ratio and cough count from the clinician's saved markers.

When the clinician has checked the automatic phases (or marked them by hand), the figures that
follow from those markers are the ones to report: a breathing cycle runs from the start of one
inspiration to the start of the next (only 1-10 s apart, 6-60 breaths/min, as in
``breath_segmentation``), and the last one to the end of the expiration that directly follows its
inspiration; the rate is 60 / the mean cycle length (s), the I/E ratio the mean
inspiration length over the mean expiration length, and the cough count the number of cough
markers. Labels are those of the review view (inspiration, expiration, cough, ...).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

MIN_CYCLE_S, MAX_CYCLE_S = 1.0, 10.0  # 60 and 6 breaths/min
ADJOINING_S = 0.1  # an expiration starting this soon after an inspiration ends belongs to it


@dataclass(frozen=True)
class MarkerFigures:
    rate_bpm: float | None  # None with fewer than one whole cycle
    cycles: int  # whole cycles (inspiration start to the next one, 1-10 s)
    ie_ratio: float | None  # None without both an inspiration and an expiration
    inspirations: int
    expirations: int
    coughs: int

    @property
    def empty(self) -> bool:
        return not (self.inspirations or self.expirations or self.coughs)


def figures_from_markers(spans: Iterable[tuple[float, float, str]]) -> MarkerFigures:
    """Figures from ``(start_s, end_s, label)`` spans (the saved markers of one take)."""
    spans = [(float(a), float(b), str(label)) for a, b, label, *_ in spans]
    inspirations = sorted((a, b) for a, b, label in spans if label == "inspiration")
    expirations = [(a, b) for a, b, label in spans if label == "expiration"]
    starts = [a for a, _ in inspirations]
    ends = starts[1:]
    if inspirations:  # the last cycle ends with the expiration that follows its inspiration
        last_end = inspirations[-1][1]
        following = [b for a, b in expirations if 0.0 <= a - last_end <= ADJOINING_S]
        ends.append(max(following) if following else -1.0)
    cycles = [b - a for a, b in zip(starts, ends, strict=False) if MIN_CYCLE_S <= b - a <= MAX_CYCLE_S]
    rate = 60.0 * len(cycles) / sum(cycles) if cycles else None
    ratio = None
    if inspirations and expirations:
        mean_insp = sum(b - a for a, b in inspirations) / len(inspirations)
        mean_exp = sum(b - a for a, b in expirations) / len(expirations)
        ratio = mean_insp / mean_exp if mean_exp > 0 else None
    coughs = sum(1 for *_, label in spans if label == "cough")
    return MarkerFigures(rate, len(cycles), ratio, len(inspirations), len(expirations), coughs)

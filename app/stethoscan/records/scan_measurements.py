"""Measurements a clinician drew on a scan series, as the patient database keeps them (no Qt).

A measurement is kept as what is needed to draw it again: its kind, the plane and slice it was
drawn on, and its two defining points in that plane's view coordinates (mm from the image's top
left corner; for an ROI the corners of its bounding box). The shown value (``summary``, e.g.
"30.0 mm" or "Mean 40.0 HU ...") is recomputed from the image when it is drawn again; it is kept
so the set can be listed without the image. Measurements belong to a series instance UID (a split
series' own UID), so those of one series never appear on another.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("distance", "rectangle", "ellipse")
PLANES = ("axial", "coronal", "sagittal")


@dataclass(eq=False)  # identity: two equal-looking measurements are still two measurements
class ScanMeasurement:
    kind: str  # "distance", "rectangle" or "ellipse"
    plane: str  # "axial", "coronal" or "sagittal"
    slice_index: int  # index of the slice in that plane
    start_mm: tuple[float, float]  # (x, y) view mm
    end_mm: tuple[float, float]  # (x, y) view mm
    summary: str = ""  # the value as last shown

    def same_as(self, other: ScanMeasurement) -> bool:
        """Whether ``other`` describes the same drawing (kind, place, points and value)."""
        return (self.kind, self.plane, self.slice_index, tuple(self.start_mm), tuple(self.end_mm),
                self.summary) == (other.kind, other.plane, other.slice_index,
                                  tuple(other.start_mm), tuple(other.end_mm), other.summary)

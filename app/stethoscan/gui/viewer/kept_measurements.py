"""The measurements a clinician drew, kept per series for the session (no Qt).

A measurement is kept as what is needed to draw it again: its kind, the plane and slice it was
drawn on, and its two defining points in that plane's view coordinates (mm from the image's top
left corner; for an ROI the corners of its bounding box). The shown value (``summary``) is
recomputed when the measurement is drawn again; it is kept only so the set can be listed.
Records are keyed by series instance UID (a split series' own UID), so the measurements of one
series never appear on another.
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("distance", "rectangle", "ellipse")


@dataclass(eq=False)  # identity: two equal-looking measurements are still two measurements
class KeptMeasurement:
    kind: str  # "distance", "rectangle" or "ellipse"
    plane: str  # "axial", "coronal" or "sagittal"
    slice_index: int  # index of the slice in that plane
    start_mm: tuple[float, float]  # (x, y) view mm
    end_mm: tuple[float, float]  # (x, y) view mm
    summary: str = ""  # the value as last shown, e.g. "30.0 mm" or "Mean 40.0 HU ..."


class KeptMeasurements:
    """Measurements of every series shown in this session, by series UID."""

    def __init__(self) -> None:
        self._by_series: dict[str, list[KeptMeasurement]] = {}

    def add(self, series_uid: str, record: KeptMeasurement) -> KeptMeasurement:
        if record.kind not in KINDS:
            raise ValueError(f"unknown measurement kind {record.kind!r}")
        self._by_series.setdefault(series_uid, []).append(record)
        return record

    def remove(self, series_uid: str, record: KeptMeasurement) -> None:
        """Forget ``record`` (the clinician deleted it); unknown records are ignored."""
        records = self._by_series.get(series_uid, [])
        if any(r is record for r in records):
            records[:] = [r for r in records if r is not record]
        if not records:
            self._by_series.pop(series_uid, None)

    def for_series(self, series_uid: str | None, plane: str | None = None) -> list[KeptMeasurement]:
        """The kept measurements of a series (optionally of one plane), in drawing order."""
        if not series_uid:
            return []
        records = self._by_series.get(series_uid, [])
        return [r for r in records if plane is None or r.plane == plane]

    def series_uids(self) -> list[str]:
        """UIDs of the series that have kept measurements."""
        return list(self._by_series)

"""The viewer's single door to the GUI-free imaging package (imported lazily, on first use).

Keeps the viewer's start-up light (pydicom loads only when a scan is opened) and keeps every
call into ``stethoscan.imaging`` in one place.
"""

from __future__ import annotations

from typing import Any


def index_paths(paths: list[str], task: Any) -> Any:
    """Index DICOM files, folders, DICOMDIRs and archives (headers only) -> ScanIndex."""
    from stethoscan.imaging.dicom_index import index_paths as index

    return index(paths, task)


def load_volume(series: Any, task: Any, first_index: int | None = None) -> Any:
    """Load a series progressively (``task.partial((index, volume))`` first) -> Volume."""
    from stethoscan.imaging.volume_loader import load_volume as load

    return load(series, task, first_index=first_index)


def presets_for(modality: str) -> list[tuple[str, float, float]]:
    """Window presets ``(label, center, width)`` in physical units; empty = automatic only."""
    from stethoscan.imaging.windowing import presets_for as table

    return [(p.label, float(p.center), float(p.width)) for p in table(modality or "").values()]


def auto_window(stored: Any, slope: float, intercept: float) -> tuple[float, float]:
    """A robust automatic (center, width) in physical units."""
    from stethoscan.imaging.windowing import auto_window as window

    return window(stored, slope, intercept)


def read_header(path: str, frame: int | None = None) -> Any:
    """One file's header (no pixel data) for the tag browser."""
    import pydicom

    return pydicom.dcmread(path, stop_before_pixels=True, force=True)

"""What every view of the open scan shares: the volume, window/level, invert, cross-hair, overlays.

The slice views subscribe to these signals and never talk to each other directly. Window values
are physical (HU for CT): ``center`` and ``width``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, Signal

from stethoscan.gui.viewer.kept_measurements import KeptMeasurements
from stethoscan.gui.viewer.plane_source import plane_order

MIN_WINDOW_WIDTH = 1e-3


@dataclass
class ScanLabels:
    """What the corner text shows about the scan (shown on screen, never logged)."""

    patient_name: str = ""
    patient_id: str = ""
    birth_date: str = ""
    sex: str = ""
    study_date: str = ""
    study_description: str = ""
    series_description: str = ""
    series_number: int | None = None
    modality: str = ""
    extra: dict[str, str] = field(default_factory=dict)


class ViewerState(QObject):
    volume_changed = Signal()  # a new volume (views reset zoom and slice)
    slices_loaded = Signal()  # more slices of the volume arrived while loading
    window_changed = Signal(float, float)  # center, width (physical units)
    invert_changed = Signal(bool)
    cursor_changed = Signal(int, int, int)  # cross-hair voxel (k, j, i)
    overlay_text_changed = Signal(bool)
    overlays_changed = Signal()
    preset_changed = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.volume: Any = None  # imaging.volume.Volume
        self.series: Any = None  # imaging.model.SeriesInfo
        self.labels = ScanLabels()
        self.center = 0.0
        self.width = 1.0
        self.default_window = (0.0, 1.0)
        self.value_range = (0.0, 1.0)  # robust (1st-99th percentile) physical range of loaded data
        self.invert = False
        self.cursor = (0, 0, 0)
        self.show_overlay_text = True
        self.overlays: dict[str, dict[str, Any]] = {}
        self.preset = "Default"
        self.plane_order = ["axial", "coronal", "sagittal"]  # main view first
        self.kept_measurements = KeptMeasurements()  # per series UID, for the whole session

    @property
    def series_uid(self) -> str | None:
        """UID of the shown series (a split part's own UID), or None when nothing names it."""
        uid = getattr(self.series, "series_uid", "") or getattr(self.volume, "series_uid", "")
        return uid or None

    # -- volume -----------------------------------------------------------------------------
    def set_volume(self, volume: Any, series: Any = None, labels: ScanLabels | None = None,
                   first_index: int | None = None) -> None:
        """Show ``volume`` (possibly still loading); the cross-hair starts at ``first_index``."""
        self.volume, self.series = volume, series
        self.labels = labels or ScanLabels(modality=getattr(volume, "modality", ""))
        self.overlays = {}
        self.plane_order = plane_order(volume)
        nk, nj, ni = volume.shape
        k = nk // 2 if first_index is None else int(np.clip(first_index, 0, nk - 1))
        self.cursor = (k, nj // 2, ni // 2)
        self.value_range = robust_range(volume, k)
        self.default_window = initial_window(volume, k)
        self.center, self.width = self.default_window
        self.preset = "Default"
        self.invert = getattr(volume, "photometric", "") == "MONOCHROME1"
        self.volume_changed.emit()
        self.window_changed.emit(self.center, self.width)
        self.invert_changed.emit(self.invert)
        self.preset_changed.emit(self.preset)

    def refine_default_window(self) -> None:
        """After loading: adopt the volume's final default window unless the user chose one."""
        if self.volume is None or not getattr(self.volume, "default_window", None):
            return
        refined = initial_window(self.volume, self.cursor[0])
        if self.preset == "Default" and refined != self.default_window:
            self.default_window = refined
            self.set_window(*refined, preset="Default")
        else:
            self.default_window = refined

    def clear(self) -> None:
        self.volume, self.series, self.overlays = None, None, {}
        self.volume_changed.emit()

    # -- window / level ---------------------------------------------------------------------
    def set_window(self, center: float, width: float, preset: str | None = None) -> None:
        self.center, self.width = float(center), max(float(width), MIN_WINDOW_WIDTH)
        self.preset = preset or "Custom"
        self.window_changed.emit(self.center, self.width)
        self.preset_changed.emit(self.preset)

    def drag_window(self, dx_px: float, dy_px: float) -> None:
        """Mouse drag: right widens the window, up raises the level (like most workstations)."""
        lo, hi = self.value_range
        step = max((hi - lo) / 400.0, 1e-6)
        self.set_window(self.center - dy_px * step, self.width + dx_px * step)

    def reset_window(self) -> None:
        self.set_window(*self.default_window, preset="Default")

    def set_invert(self, invert: bool) -> None:
        if invert != self.invert:
            self.invert = bool(invert)
            self.invert_changed.emit(self.invert)

    # -- cross-hair, overlays ---------------------------------------------------------------
    def set_cursor(self, k: int, j: int, i: int) -> None:
        if self.volume is None:
            return
        nk, nj, ni = self.volume.shape
        cursor = (int(np.clip(k, 0, nk - 1)), int(np.clip(j, 0, nj - 1)), int(np.clip(i, 0, ni - 1)))
        if cursor != self.cursor:
            self.cursor = cursor
            self.cursor_changed.emit(*cursor)

    def set_overlay_text(self, visible: bool) -> None:
        self.show_overlay_text = bool(visible)
        self.overlay_text_changed.emit(self.show_overlay_text)

    def set_overlay(self, name: str, spec: dict[str, Any] | None) -> None:
        """Add, replace (``spec``) or remove (``None``) an overlay in the volume's voxel grid."""
        if spec is None:
            self.overlays.pop(name, None)
        else:
            self.overlays[name] = dict(spec)
        self.overlays_changed.emit()


def robust_range(volume: Any, k: int) -> tuple[float, float]:
    """1st and 99.5th percentile of the physical values of slice ``k`` (a cheap, robust range)."""
    if volume.is_rgb:
        return 0.0, 255.0
    values = volume.physical(k)[::2, ::2]
    lo, hi = np.percentile(values, [1.0, 99.5])
    if hi - lo < 1e-6:
        lo, hi = float(values.min()), float(values.max()) + 1.0
    return float(lo), float(hi)


def initial_window(volume: Any, k: int | None = None) -> tuple[float, float]:
    """The series' own window if it has one, else an automatic one from the data."""
    if getattr(volume, "default_window", None):
        center, width = volume.default_window
        if width and width > 0:
            return float(center), float(width)
    if volume.is_rgb:
        return 127.5, 255.0
    from stethoscan.gui.viewer.imaging_bridge import auto_window

    k = volume.shape[0] // 2 if k is None else k
    return auto_window(volume.voxels[k], volume.slope, volume.intercept)

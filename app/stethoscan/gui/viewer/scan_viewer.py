"""The scan viewer: toolbar, warnings banner, plane views, progressive loading, cine.

``open_series(series)`` loads in the io pool; the slice asked for is shown from the job's first
partial result while the rest fills in (progress and cancel in the status bar).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QLabel,
    QStackedWidget,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from stethoscan.core.errors import StethoscanError
from stethoscan.gui.viewer import imaging_bridge
from stethoscan.gui.viewer.three_plane_view import PlaneLayout
from stethoscan.gui.viewer.viewer_actions import create_viewer_actions
from stethoscan.gui.viewer.viewer_state import ScanLabels, ViewerState
from stethoscan.gui.viewer.warnings_banner import WarningsBanner

_log = logging.getLogger(__name__)
_REFRESH_INTERVAL_S = 0.15  # while loading, redraw at most this often


class ScanViewer(QWidget):
    cursor_reading = Signal(str)
    loading_state = Signal(str)  # "loading" | "loaded" | "failed" | "cancelled"

    def __init__(self, context: Any, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scanViewer")
        self.context = context
        self.state = ViewerState(self)
        if getattr(context, "store", None) is not None:  # measurements outlive the session
            self.state.kept_measurements.attach_store(context.store, context.status_message.emit)
        self.load_function = imaging_bridge.load_volume  # tests swap in a synthetic loader
        self.job: Any = None
        self._last_refresh = 0.0
        self.actions_ = create_viewer_actions(self)
        self._build()
        self._connect()
        self._apply_viewer_settings()
        self.cine_timer = QTimer(self)
        self.cine_timer.timeout.connect(self._cine_step)
        context.scan_overlay_changed.connect(self._on_scan_overlay)

    # -- construction -----------------------------------------------------------------------
    def _build(self) -> None:
        self.toolbar = QToolBar("Viewer tools")
        self.toolbar.setObjectName("viewerToolbar")
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonIconOnly)
        a = self.actions_
        self.preset_combo = QComboBox()
        self.preset_combo.setObjectName("presetCombo")
        self.preset_combo.setToolTip("Window preset")
        self.preset_combo.setMinimumContentsLength(14)
        self.preset_combo.setPlaceholderText("Window preset")
        self.fps_spin = QDoubleSpinBox()
        self.fps_spin.setRange(1.0, 60.0)
        self.fps_spin.setSuffix(" fps")
        self.fps_spin.setValue(self.context.settings.viewer.cine_fps)
        self.fps_spin.setToolTip("Cine speed (frames per second)")
        for item in (a["three_plane"], None, self.preset_combo, a["invert"], a["reset"], None,
                     a["tool_pan"], a["tool_distance"], a["tool_rectangle"], a["tool_ellipse"],
                     a["clear_measurements"], None, a["cine"], self.fps_spin, None,
                     a["overlay_text"], a["tag_browser"]):
            if item is None:
                self.toolbar.addSeparator()
            elif isinstance(item, QWidget):
                self.toolbar.addWidget(item)
            else:
                self.toolbar.addAction(item)
        self.banner = WarningsBanner()
        self.planes = PlaneLayout(self.state)
        self.empty_hint = QLabel(
            "<div style='font-size:15pt; color:#aab3bd'>No scan open</div>"
            "<div style='color:#7d8590'>Open files (Ctrl+O) or a folder (Ctrl+Shift+O), "
            "or drop DICOM files, folders or a zip archive here.</div>"
        )
        self.empty_hint.setObjectName("emptyHint")
        self.empty_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.stack = QStackedWidget()
        self.stack.addWidget(self.empty_hint)
        self.stack.addWidget(self.planes)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        layout.addWidget(self.toolbar)
        layout.addWidget(self.banner)
        layout.addWidget(self.stack, 1)
        self._set_enabled(False)

    def _connect(self) -> None:
        a, s = self.actions_, self.state
        a["invert"].toggled.connect(s.set_invert)
        s.invert_changed.connect(a["invert"].setChecked)
        a["overlay_text"].toggled.connect(self._set_overlay_text)
        a["reset"].triggered.connect(self.reset)
        a["three_plane"].toggled.connect(self.planes.set_three_plane)
        a["cine"].toggled.connect(self.set_cine)
        a["tag_browser"].triggered.connect(self.show_tag_browser)
        for tool in ("pan", "distance", "rectangle", "ellipse"):
            a[f"tool_{tool}"].triggered.connect(lambda _=False, t=tool: self.planes.set_tool(t))
        a["clear_measurements"].triggered.connect(self.planes.clear_measurements)
        a["next_slice"].triggered.connect(lambda: self.planes.active.scroll(1))
        a["previous_slice"].triggered.connect(lambda: self.planes.active.scroll(-1))
        self.preset_combo.activated.connect(self._on_preset_chosen)
        s.preset_changed.connect(self._show_preset)
        self.fps_spin.valueChanged.connect(self._on_fps_changed)
        self.planes.cursor_reading.connect(self.cursor_reading)

    def _apply_viewer_settings(self) -> None:
        """Overlay text, scale bar and interpolation as the user last left them."""
        viewer = self.context.settings.viewer
        self.actions_["overlay_text"].setChecked(viewer.show_overlay)
        self.state.set_overlay_text(viewer.show_overlay)
        for view in self.planes.views:
            view.painter.show_scale_bar = viewer.show_scale_bar
            view.image_item.smooth = viewer.interpolate

    def _set_overlay_text(self, visible: bool) -> None:
        self.context.settings.viewer.show_overlay = bool(visible)
        self.state.set_overlay_text(visible)

    def _set_enabled(self, enabled: bool) -> None:
        for action in self.actions_.values():
            action.setEnabled(enabled)
        self.preset_combo.setEnabled(enabled)
        self.fps_spin.setEnabled(enabled)
        self.stack.setCurrentIndex(1 if enabled else 0)

    # -- loading ----------------------------------------------------------------------------
    def open_series(self, series: Any, labels: ScanLabels | None = None,
                    first_index: int | None = None) -> Any:
        """Start loading ``series``; the slice ``first_index`` (default: middle) shows first."""
        self.cancel_loading()
        self.set_cine(False)
        count = max(series.number_of_slices, 1)
        first = count // 2 if first_index is None else max(0, min(first_index, count - 1))
        self._pending = (series, labels or ScanLabels(modality=series.modality))
        title = f"Loading {series.modality or 'scan'} series ({count} images)"
        job = self.context.workers.submit(title, self.load_function, series, first_index=first)
        self.job = job
        job.partial.connect(lambda result, j=job: self._on_first_slice(j, result))
        job.progress.connect(lambda f, m, j=job: self._on_progress(j))
        job.finished.connect(lambda volume, j=job: self._on_loaded(j, volume))
        job.failed.connect(lambda exc, j=job: self._on_failed(j, exc))
        job.cancelled.connect(lambda j=job: self._on_cancelled(j))
        self.banner.clear()
        self.loading_state.emit("loading")
        return job

    def cancel_loading(self) -> None:
        if self.job is not None and self.job.is_running:
            self.job.cancel()

    def show_volume(self, volume: Any, series: Any = None, labels: ScanLabels | None = None,
                    first_index: int | None = None) -> None:
        """Show an already built volume (also used for partial volumes while loading)."""
        self._fill_presets(volume.modality)
        self.state.set_volume(volume, series, labels, first_index)
        self._set_enabled(True)
        stack = volume.shape[0] > 1  # a single image has no other planes and nothing to play
        if not stack:
            self.actions_["three_plane"].setChecked(False)
        for name in ("three_plane", "cine"):
            self.actions_[name].setEnabled(stack)
        self.fps_spin.setEnabled(stack)
        self.planes.main.graphics.setFocus()
        self._show_warnings(series, volume)

    def _on_first_slice(self, job: Any, result: Any) -> None:
        if job is not self.job:
            return
        index, volume = result
        series, labels = self._pending
        self.show_volume(volume, series, labels, first_index=index)

    def _on_progress(self, job: Any) -> None:
        now = time.monotonic()
        if job is self.job and self.state.volume is not None and now - self._last_refresh > _REFRESH_INTERVAL_S:
            self._last_refresh = now
            self.state.slices_loaded.emit()

    def _on_loaded(self, job: Any, volume: Any) -> None:
        if job is not self.job:
            return
        series, labels = self._pending
        if self.state.volume is not volume:
            self.show_volume(volume, series, labels)
        else:
            self.state.slices_loaded.emit()
            self.state.refine_default_window()
            self._show_warnings(series, volume)
        self.loading_state.emit("loaded")
        self.context.set_volume(series, volume)

    def _on_failed(self, job: Any, exc: BaseException) -> None:
        if job is not self.job:
            return
        if isinstance(exc, StethoscanError):
            message = str(exc)
        else:
            message = f"The series could not be loaded ({type(exc).__name__}). Details are in the log."
        self.banner.show_error(message)
        self.loading_state.emit("failed")

    def _on_cancelled(self, job: Any) -> None:
        if job is not self.job:
            return
        volume = self.state.volume
        if volume is not None and getattr(volume, "loaded", None) is not None:
            done, total = int(volume.loaded.sum()), len(volume.loaded)
            self.banner.show_warnings([f"Loading was cancelled: {done} of {total} slices are shown."])
        self.loading_state.emit("cancelled")

    def _show_warnings(self, series: Any, volume: Any) -> None:
        warnings = list(getattr(series, "warnings", []) or [])
        warnings += [w for w in getattr(volume, "warnings", []) or [] if w not in warnings]
        if warnings:
            self.banner.show_warnings(warnings)

    # -- window presets ---------------------------------------------------------------------
    def presets(self) -> list[tuple[str, float, float]]:
        volume = self.state.volume
        return imaging_bridge.presets_for(volume.modality) if volume is not None else []

    def _fill_presets(self, modality: str) -> None:
        self.preset_combo.clear()
        self.preset_combo.setPlaceholderText("Custom")  # shown while no preset matches
        self.preset_combo.addItem("Default")
        for name, center, width in imaging_bridge.presets_for(modality):
            self.preset_combo.addItem(name, (center, width))

    def apply_preset(self, name: str) -> None:
        """Apply a window preset by name ("Default" restores the series' own window)."""
        if name == "Default":
            self.state.reset_window()
            return
        for preset, center, width in self.presets():
            if preset == name:
                self.state.set_window(center, width, preset=name)
                return
        raise ValueError(f"no preset {name!r} for this modality")

    def _on_preset_chosen(self, row: int) -> None:
        self.apply_preset(self.preset_combo.itemText(row))

    def _show_preset(self, name: str) -> None:
        self.preset_combo.setCurrentIndex(self.preset_combo.findText(name))  # -1 shows "Custom"

    # -- viewing ----------------------------------------------------------------------------
    def reset(self) -> None:
        self.state.reset_window()
        self.planes.reset_views()

    def set_cine(self, playing: bool) -> None:
        if playing and self.state.volume is not None:
            self.cine_timer.start(int(1000 / self.fps_spin.value()))
        else:
            self.cine_timer.stop()
        action = self.actions_["cine"]
        if action.isChecked() != self.cine_timer.isActive():
            action.blockSignals(True)
            action.setChecked(self.cine_timer.isActive())
            action.blockSignals(False)
        from stethoscan.gui.icons import icon

        action.setIcon(icon("pause" if self.cine_timer.isActive() else "play"))

    def _cine_step(self) -> None:
        view = self.planes.active
        if view.geometry_ is None:
            return
        view.set_index((view.index + 1) % view.geometry_.count)

    def _on_fps_changed(self, fps: float) -> None:
        self.context.settings.viewer.cine_fps = float(fps)
        if self.cine_timer.isActive():
            self.cine_timer.setInterval(int(1000 / fps))

    def show_tag_browser(self) -> None:
        from stethoscan.gui.viewer.tag_browser import TagBrowser

        TagBrowser.show_for(self)

    def current_instance(self) -> Any:
        """The InstanceRef of the acquired slice at the cross-hair (for the tag browser), or None."""
        series = self.state.series
        if series is None or not getattr(series, "instances", None):
            return None
        k = self.state.cursor[0]
        return series.instances[k] if k < len(series.instances) else None

    # -- overlays from other parts (saliency, brain mask) ------------------------------------
    def _on_scan_overlay(self, name: str, spec: Any) -> None:
        volume = self.state.volume
        if spec is not None and volume is not None:
            shape = tuple(getattr(spec.get("data"), "shape", ())[:3])
            if shape != tuple(volume.shape):
                self.banner.show_warnings([
                    f"The overlay '{spec.get('label', name)}' does not fit this scan "
                    f"(grid {shape} vs {tuple(volume.shape)}) and is not shown."
                ])
                return
        self.state.set_overlay(name, spec)

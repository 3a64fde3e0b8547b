"""One plane of the open volume: image, overlays, cross-hair, measurements and corner text.

The image is placed in millimetres (its rectangle is rows x row spacing by cols x column
spacing), so the aspect is right for any voxel spacing and view coordinates are mm. Window/level
changes are rate-limited with a ``SignalProxy``; the ImageItem downsamples to the screen.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QPointF, QRectF, Qt, Signal
from PySide6.QtGui import QPainter
from PySide6.QtWidgets import QHBoxLayout, QScrollBar, QSizePolicy, QWidget

from stethoscan.gui.viewer.measurement_tools import MeasurementLayer
from stethoscan.gui.viewer.overlay_text import OverlayContent, OverlayPainter
from stethoscan.gui.viewer.plane_source import PlaneGeometry, PlaneImage
from stethoscan.gui.viewer.scan_overlay_items import OverlayImages
from stethoscan.gui.viewer.slice_view_box import SliceViewBox
from stethoscan.gui.viewer.viewer_state import ViewerState


class SmoothImageItem(pg.ImageItem):
    """An ImageItem drawn with bilinear filtering when ``smooth`` is set (like clinical viewers)."""

    smooth = True

    def paint(self, painter, *args) -> None:
        painter.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform, self.smooth)
        super().paint(painter, *args)


class SliceView(QWidget):
    """A single plane view; several views share one :class:`ViewerState`."""

    cursor_reading = Signal(str)  # value under the pointer, for the status bar
    activated = Signal(object)  # self, when the user interacts with it

    def __init__(self, state: ViewerState, role: int = 0, compact: bool = False,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName(f"sliceView_{role}")
        self.state, self.role, self.compact = state, role, compact
        self.plane = state.plane_order[role]  # the main view (role 0) shows the acquired plane
        self.geometry_: PlaneGeometry | None = None
        self.index = 0
        self.plane_image: PlaneImage | None = None
        self.show_crosshair = False
        self.cursor_text = ""
        self._stale = False  # a render was skipped while hidden
        self._shown_window: tuple[float, float, bool] | None = None
        self._build()
        state.volume_changed.connect(self._on_volume_changed)
        state.slices_loaded.connect(self._on_slices_loaded)
        state.cursor_changed.connect(self._on_cursor_changed)
        state.invert_changed.connect(self._apply_invert)
        state.overlay_text_changed.connect(self._on_overlay_text)
        state.overlays_changed.connect(self._on_overlays_changed)
        self._window_proxy = pg.SignalProxy(state.window_changed, rateLimit=60, slot=self._apply_levels)

    # -- construction -----------------------------------------------------------------------
    def _build(self) -> None:
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(0)
        self.graphics = pg.GraphicsView(background="#000000")
        self.graphics.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Expanding)
        self.graphics.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.view_box = SliceViewBox()
        self.graphics.setCentralItem(self.view_box)
        self.image_item = SmoothImageItem(axisOrder="row-major", autoDownsample=True)
        self.view_box.addItem(self.image_item)
        self.overlay_images = OverlayImages(self.view_box)
        pen = pg.mkPen("#3fa7d6", width=1)
        self.h_line = pg.InfiniteLine(angle=0, movable=False, pen=pen)
        self.v_line = pg.InfiniteLine(angle=90, movable=False, pen=pen)
        for line in (self.h_line, self.v_line):
            line.setZValue(20)
            line.setVisible(False)
            self.view_box.addItem(line, ignoreBounds=True)
        self.measurements = MeasurementLayer(self.view_box, lambda: self.index, self.plane_values,
                                             self.state.kept_measurements,
                                             lambda: (self.state.series_uid, self.plane))
        self.view_box.tool_drag = self.measurements.handle_drag
        self.view_box.scroll_requested.connect(self.scroll)
        self.view_box.window_drag.connect(self.state.drag_window)
        self.view_box.clicked.connect(self._on_click)
        self.view_box.sigRangeChanged.connect(lambda *_: self._update_overlay_text())
        self.graphics.scene().sigMouseMoved.connect(self._on_mouse_moved)
        self.painter = OverlayPainter(self.graphics, compact=self.compact)
        self.scrollbar = QScrollBar(Qt.Orientation.Vertical)
        self.scrollbar.setObjectName("sliceScrollBar")
        self.scrollbar.valueChanged.connect(self.set_index)
        layout.addWidget(self.graphics, 1)
        layout.addWidget(self.scrollbar)

    def showEvent(self, event) -> None:  # noqa: N802
        super().showEvent(event)
        if self._stale:
            self._render()

    def resizeEvent(self, event) -> None:  # noqa: N802
        super().resizeEvent(event)
        self.painter.setGeometry(self.graphics.rect())

    # -- volume and slices ------------------------------------------------------------------
    def _on_volume_changed(self) -> None:
        self.measurements.detach_all()  # the series keeps them; the new one's are drawn below
        volume = self.state.volume
        if volume is None:
            self.geometry_ = None
            self.image_item.clear()
            self.painter.set_content(OverlayContent())
            return
        self.plane = self.state.plane_order[self.role]
        self.geometry_ = PlaneGeometry(volume, self.plane)
        self.index = int(self.geometry_.from_voxel(*self.state.cursor)[0])
        self.scrollbar.blockSignals(True)
        self.scrollbar.setRange(0, self.geometry_.count - 1)
        self.scrollbar.setValue(self.index)
        self.scrollbar.blockSignals(False)
        self.overlay_images.sync({})
        self._render()
        self.reset_view()
        self._move_crosshair()
        self.measurements.restore()

    def _on_slices_loaded(self) -> None:
        """More slices arrived: redraw if what is shown changed (reformatted planes always do)."""
        if self.geometry_ is None:
            return
        self.measurements.refresh_pending()
        if self.geometry_.fixed != 0 or (self.plane_image is not None and not self.plane_image.loaded):
            self._render()

    def set_index(self, index: int) -> None:
        """Show slice ``index`` of this plane (moves the shared cross-hair along the normal)."""
        if self.geometry_ is None:
            return
        index = int(np.clip(index, 0, self.geometry_.count - 1))
        _, row, col = self.geometry_.from_voxel(*self.state.cursor)
        k, j, i = self.geometry_.to_voxel(index, row, col)
        self.state.set_cursor(round(k), round(j), round(i))
        if index != self.index:  # cursor already there (e.g. clamped): still show the slice
            self._show_index(index)

    def scroll(self, step: int) -> None:
        self.activated.emit(self)
        self.set_index(self.index + step)

    def _on_cursor_changed(self, k: int, j: int, i: int) -> None:
        if self.geometry_ is None:
            return
        index = int(round(self.geometry_.from_voxel(k, j, i)[0]))
        if index != self.index:
            self._show_index(index)
        self._move_crosshair()

    def _show_index(self, index: int) -> None:
        self.index = index
        self.scrollbar.blockSignals(True)
        self.scrollbar.setValue(index)
        self.scrollbar.blockSignals(False)
        self._render()
        self.measurements.show_slice(index)

    def _render(self) -> None:
        geometry = self.geometry_
        if geometry is None:
            return
        if not self.isVisible():  # hidden side views catch up when shown
            self._stale = True
            return
        self._stale = False
        self._shown_window = (self.state.center, self.state.width, self.state.invert)
        self.plane_image = image = geometry.image(self.index)
        # uint8 grey without levels or table: pyqtgraph's fastest path (a Grayscale8 QImage)
        self.image_item.setImage(self._displayed(self._loaded_part(image)), autoLevels=False, levels=None)
        self.image_item.setRect(self.image_rect())
        self._refresh_overlays()
        self._update_overlay_text()

    def _displayed(self, data: np.ndarray) -> np.ndarray:
        """Grey levels (uint8) through the window, as ``stethoscan dicom render`` draws them."""
        volume, s = self.state.volume, self.state
        if volume.is_rgb:
            return data
        from stethoscan.imaging.windowing import apply_window

        return apply_window(data, s.center, s.width, volume.slope, volume.intercept, invert=s.invert)

    def _loaded_part(self, image: PlaneImage) -> np.ndarray:
        """The plane with slices that are not read yet shown black (their memory is unset)."""
        loaded = getattr(self.state.volume, "loaded", None)
        if loaded is None or loaded.all():
            return image.data
        if self.geometry_.fixed == 0:
            return image.data if image.loaded else np.zeros(image.data.shape, image.data.dtype)
        mask = self.geometry_.slice_array(np.broadcast_to(loaded[:, None, None], self.state.volume.shape), self.index)
        if image.data.ndim == 3:
            mask = mask[..., None]
        return np.where(mask, image.data, 0).astype(image.data.dtype, copy=False)

    def image_rect(self) -> QRectF:
        g = self.geometry_
        if g is None:
            return QRectF()
        return QRectF(0.0, 0.0, g.cols * g.col_mm, g.rows * g.row_mm)

    # -- window, invert, overlays -----------------------------------------------------------
    def _apply_levels(self, *_args) -> None:
        if self.geometry_ is not None and self._shown_window != (self.state.center, self.state.width, self.state.invert):
            self._render()

    def displayed_image(self) -> np.ndarray:
        """The grey levels (uint8) on screen (for tests)."""
        return self.image_item.image

    def _apply_invert(self, *_args) -> None:
        self._apply_levels()

    def _on_overlays_changed(self) -> None:
        self.overlay_images.sync(self.state.overlays)
        self._refresh_overlays()
        self._update_overlay_text()

    def _refresh_overlays(self) -> None:
        if self.geometry_ is not None and self.state.overlays:
            self.overlay_images.show(self.state.overlays, self.geometry_, self.index, self.image_rect())

    def _on_overlay_text(self, visible: bool) -> None:
        self.painter.text_visible = visible
        self.painter.update()

    # -- view -------------------------------------------------------------------------------
    def reset_view(self) -> None:
        rect = self.image_rect()
        if rect.isValid():
            self.view_box.setRange(rect=rect, padding=0.0)

    def zoom_factor(self) -> float:
        """Screen pixels per image pixel (1.0 = one image pixel per screen pixel)."""
        g = self.geometry_
        if g is None:
            return 1.0
        mm_per_px_x, _ = self.view_box.viewPixelSize()
        return g.col_mm / mm_per_px_x if mm_per_px_x else 1.0

    def set_crosshair_visible(self, visible: bool) -> None:
        self.show_crosshair = visible
        self._move_crosshair()

    def _move_crosshair(self) -> None:
        g = self.geometry_
        visible = self.show_crosshair and g is not None
        self.h_line.setVisible(visible)
        self.v_line.setVisible(visible)
        if visible:
            _, row, col = g.from_voxel(*self.state.cursor)
            self.h_line.setPos((row + 0.5) * g.row_mm)
            self.v_line.setPos((col + 0.5) * g.col_mm)

    def _on_click(self, point: QPointF) -> None:
        self.activated.emit(self)
        voxel = self.voxel_at(point)
        if voxel is not None and self.show_crosshair:
            self.state.set_cursor(*voxel)

    # -- reading values ---------------------------------------------------------------------
    def voxel_at(self, point: QPointF) -> tuple[int, int, int] | None:
        """Voxel (k, j, i) under view point ``point`` (mm), or None outside the image."""
        g = self.geometry_
        if g is None:
            return None
        row, col = int(np.floor(point.y() / g.row_mm)), int(np.floor(point.x() / g.col_mm))
        if not (0 <= row < g.rows and 0 <= col < g.cols):
            return None
        k, j, i = g.to_voxel(self.index, row, col)
        return int(round(k)), int(round(j)), int(round(i))

    def reading_at(self, point: QPointF) -> str:
        """"Value, voxel and patient position" text for the point, or "" outside the image."""
        voxel = self.voxel_at(point)
        volume = self.state.volume
        if voxel is None or volume is None:
            return ""
        k, j, i = voxel
        if volume.loaded is not None and not volume.loaded[k]:
            return f"voxel ({i}, {j}, {k}) not loaded yet"
        stored = volume.voxels[k, j, i]
        if volume.is_rgb:
            value = "RGB " + " ".join(str(int(v)) for v in stored)
        else:
            physical = float(stored) * volume.slope + volume.intercept
            value = f"{physical:.0f} {volume.units}".strip() if volume.units == "HU" else f"{physical:.4g} {volume.units}".strip()
        x, y, z = volume.index_to_patient_mm(k, j, i)
        return f"{value}  ·  voxel ({i}, {j}, {k})  ·  ({x:.1f}, {y:.1f}, {z:.1f}) mm"

    def _on_mouse_moved(self, scene_pos) -> None:
        if self.geometry_ is None:
            return
        self.cursor_text = self.reading_at(self.view_box.mapSceneToView(scene_pos))
        self.cursor_reading.emit(self.cursor_text)
        self._update_overlay_text()

    def plane_values(self, index: int | None = None) -> tuple[np.ndarray, float, float, str] | None:
        """Physical values of plane ``index`` (default: the shown one), its pixel spacing (mm)
        and unit (for ROIs); None for colour or while the plane is not completely read."""
        g, volume = self.geometry_, self.state.volume
        if g is None or volume is None or volume.is_rgb:
            return None
        index = self.index if index is None else int(np.clip(index, 0, g.count - 1))
        loaded = getattr(volume, "loaded", None)
        if loaded is not None and not (loaded[index] if g.fixed == 0 else loaded.all()):
            return None
        data = g.slice_array(volume.voxels, index).astype(np.float32)
        return data * np.float32(volume.slope) + np.float32(volume.intercept), g.row_mm, g.col_mm, volume.units

    # -- corner text ------------------------------------------------------------------------
    def _update_overlay_text(self) -> None:
        from stethoscan.gui.viewer.corner_text import corner_content

        if self.geometry_ is None or self.plane_image is None:
            return
        mm_per_px = self.view_box.viewPixelSize()[0] or None
        self.painter.set_content(corner_content(self, mm_per_px))

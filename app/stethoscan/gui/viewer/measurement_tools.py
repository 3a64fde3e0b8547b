"""Distance and ROI measurements on a slice view, in mm and physical units.

View coordinates of a slice view are millimetres (the image is placed with its pixel spacing),
so a distance is the length of the drawn segment. An ROI's statistics use the pixels whose
centres lie inside the drawn shape; its area is the drawn shape's area (mm^2).
Every measurement is also kept per series (``kept_measurements``) and saved in the patient
database once drawn, moved or deleted: when the series is shown again, in this session or a
later one, its measurements are drawn again on their slices.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QObject, QPointF, Signal

from stethoscan.gui.viewer.kept_measurements import KeptMeasurement, KeptMeasurements

TOOLS = ("pan", "distance", "rectangle", "ellipse")
_PEN = pg.mkPen("#f0c75e", width=1.6)
_HOVER_PEN = pg.mkPen("#ffe39a", width=2)
_HANDLE_PEN = pg.mkPen("#f0c75e")


@dataclass(frozen=True)
class RoiStats:
    mean: float
    sd: float  # sample standard deviation (n - 1)
    minimum: float
    maximum: float
    area_mm2: float  # area of the drawn shape
    pixels: int  # pixels whose centres are inside

    def describe(self, units: str) -> str:
        unit = f" {units}" if units else ""
        if self.pixels == 0:
            return f"Area {self.area_mm2:.1f} mm²\n(no pixel inside)"
        return (
            f"Mean {self.mean:.1f}{unit}  SD {self.sd:.1f}\n"
            f"Min {self.minimum:.1f}  Max {self.maximum:.1f}\n"
            f"Area {self.area_mm2:.1f} mm²  ({self.pixels} px)"
        )


def roi_mask(
    shape: tuple[int, int], row_mm: float, col_mm: float,
    x_mm: float, y_mm: float, w_mm: float, h_mm: float, kind: str,
) -> np.ndarray:
    """Boolean (rows, cols) mask of pixels whose centres lie inside the rectangle or ellipse."""
    rows, cols = shape
    cx = (np.arange(cols) + 0.5) * col_mm
    cy = (np.arange(rows) + 0.5) * row_mm
    x0, x1 = sorted((x_mm, x_mm + w_mm))
    y0, y1 = sorted((y_mm, y_mm + h_mm))
    if kind == "rectangle":
        return ((cy >= y0) & (cy <= y1))[:, None] & ((cx >= x0) & (cx <= x1))[None, :]
    a, b = (x1 - x0) / 2.0, (y1 - y0) / 2.0
    if a <= 0 or b <= 0:
        return np.zeros(shape, dtype=bool)
    dx = ((cx - (x0 + a)) / a)[None, :]
    dy = ((cy - (y0 + b)) / b)[:, None]
    return dx * dx + dy * dy <= 1.0


def roi_statistics(
    values: np.ndarray, row_mm: float, col_mm: float,
    x_mm: float, y_mm: float, w_mm: float, h_mm: float, kind: str,
) -> RoiStats:
    """Mean, SD, min, max of ``values`` (physical units) inside the shape; area in mm^2."""
    mask = roi_mask(values.shape[:2], row_mm, col_mm, x_mm, y_mm, w_mm, h_mm, kind)
    area = abs(w_mm * h_mm) * (math.pi / 4.0 if kind == "ellipse" else 1.0)
    inside = values[mask].astype(np.float64)
    if inside.size == 0:
        return RoiStats(math.nan, math.nan, math.nan, math.nan, area, 0)
    sd = float(inside.std(ddof=1)) if inside.size > 1 else 0.0
    return RoiStats(float(inside.mean()), sd, float(inside.min()), float(inside.max()), area, int(inside.size))


def distance_mm(p0: QPointF, p1: QPointF) -> float:
    """Length of a segment whose ends are in view coordinates (mm)."""
    return math.hypot(p1.x() - p0.x(), p1.y() - p0.y())


PlaneValues = Callable[[int], "tuple[np.ndarray, float, float, str] | None"]  # slice index -> values


class Measurement(QObject):
    """One drawn measurement (distance or ROI) on one slice of one plane."""

    changed = Signal(object)  # self

    def __init__(self, kind: str, slice_index: int, start: QPointF, values: PlaneValues) -> None:
        super().__init__()
        self.kind, self.slice_index, self._values = kind, slice_index, values
        self.record: KeptMeasurement | None = None  # what is kept of it for its series
        self.saved_state: tuple | None = None  # the record as last saved to the database
        self.series_uid: str | None = None  # the series it is kept under
        self.result: float | RoiStats | None = None
        self.label = pg.TextItem("", color="#f7e7b4", fill=pg.mkBrush(0, 0, 0, 170), anchor=(0, 1))
        if kind == "distance":
            self.item = pg.LineSegmentROI([start, start], pen=_PEN, hoverPen=_HOVER_PEN,
                                          handlePen=_HANDLE_PEN, removable=True)
        else:
            cls = pg.RectROI if kind == "rectangle" else pg.EllipseROI
            self.item = cls(start, [1e-3, 1e-3], pen=_PEN, hoverPen=_HOVER_PEN,
                            handlePen=_HANDLE_PEN, removable=True)
            if kind == "ellipse":  # axis-aligned only: statistics assume no rotation
                for handle in list(self.item.getHandles()):
                    if handle.typ == "r":
                        self.item.removeHandle(handle)
        self.item.sigRegionChanged.connect(self.update)

    def set_end(self, start: QPointF, end: QPointF) -> None:
        if self.kind == "distance":
            self.item.movePoint(self.item.getHandles()[1], end, finish=False)
        else:
            self.item.setPos([min(start.x(), end.x()), min(start.y(), end.y())], update=False)
            self.item.setSize([abs(end.x() - start.x()), abs(end.y() - start.y())])

    def endpoints(self) -> tuple[QPointF, QPointF]:
        handles = self.item.getHandles()
        return (self.item.mapToParent(handles[0].pos()), self.item.mapToParent(handles[1].pos()))

    def defining_points(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """The two points (view mm) that draw it again: segment ends or the ROI's box corners."""
        if self.kind == "distance":
            p0, p1 = self.endpoints()
            return (p0.x(), p0.y()), (p1.x(), p1.y())
        pos, size = self.item.pos(), self.item.size()
        return (pos.x(), pos.y()), (pos.x() + size.x(), pos.y() + size.y())

    def update(self) -> None:
        if self.kind == "distance":
            p0, p1 = self.endpoints()
            self.result = distance_mm(p0, p1)
            self.label.setText(f"{self.result:.1f} mm")
            self.label.setPos(max((p0, p1), key=lambda p: p.x()))
        else:
            pos, size = self.item.pos(), self.item.size()
            values = self._values(self.slice_index)  # its own slice, shown or not
            if values is None:
                return
            data, row_mm, col_mm, units = values
            self.result = roi_statistics(data, row_mm, col_mm, pos.x(), pos.y(), size.x(), size.y(), self.kind)
            self.label.setText(self.result.describe(units))
            self.label.setAnchor((0, 0))  # below the shape, so neighbouring ROIs do not collide
            self.label.setPos(pos.x(), pos.y() + size.y())
        self.changed.emit(self)

    def add_to(self, view_box: pg.ViewBox) -> None:
        view_box.addItem(self.item)
        view_box.addItem(self.label)

    def remove_from(self, view_box: pg.ViewBox) -> None:
        view_box.removeItem(self.item)
        view_box.removeItem(self.label)

    def set_visible(self, visible: bool) -> None:
        self.item.setVisible(visible)
        self.label.setVisible(visible)


class MeasurementLayer(QObject):
    """The measurements of one slice view: drawing with the active tool, showing per slice.

    ``place()`` names where the view is: (series UID or None, plane). Drawn measurements are kept
    in ``kept`` under that series; ``detach_all`` and ``restore`` take them off the view and draw
    them again when the series changes; ``remove`` and ``clear`` (the clinician deletes) forget them.
    """

    measured = Signal(object)  # Measurement, after it was drawn or changed

    def __init__(self, view_box: pg.ViewBox, current_slice: Callable[[], int], values: PlaneValues,
                 kept: KeptMeasurements | None = None,
                 place: Callable[[], tuple[str | None, str]] | None = None) -> None:
        super().__init__()
        self.view_box, self._current_slice, self._values = view_box, current_slice, values
        self.kept = kept if kept is not None else KeptMeasurements()
        self._place = place or (lambda: (None, ""))
        self.tool = "pan"
        self.items: list[Measurement] = []
        self._drawing: Measurement | None = None
        self._start = QPointF()

    def set_tool(self, tool: str) -> None:
        if tool not in TOOLS:
            raise ValueError(f"unknown tool {tool!r}")
        self.tool = tool

    def handle_drag(self, ev) -> bool:
        """Left-drag handler for the view box: draw a new measurement with the active tool."""
        if self.tool == "pan":
            return False
        point = self.view_box.mapSceneToView(ev.scenePos())
        if ev.isStart():
            self._start = self.view_box.mapSceneToView(ev.buttonDownScenePos())
            self._drawing = self.add(self.tool, self._start, point)
        elif self._drawing is not None:
            self._drawing.set_end(self._start, point)
            if ev.isFinish():
                drawn, self._drawing = self._drawing, None
                drawn.update()
                self.measured.emit(drawn)
                self._save(drawn)
        return True

    def add(self, kind: str, start: QPointF, end: QPointF, slice_index: int | None = None,
            record: KeptMeasurement | None = None) -> Measurement:
        """Add a measurement from ``start`` to ``end`` (view mm) on ``slice_index`` (default:
        the current slice); a new one is kept for the series, a ``record`` is drawn again."""
        index = self._current_slice() if slice_index is None else int(slice_index)
        item = Measurement(kind, index, start, self._values)
        item.add_to(self.view_box)
        item.set_end(start, end)
        item.item.sigRemoveRequested.connect(lambda _roi, m=item: self.remove(m))
        item.changed.connect(self.measured.emit)
        item.item.sigRegionChanged.connect(lambda _roi, m=item: self._remember(m))  # after update
        item.item.sigRegionChangeFinished.connect(lambda _roi, m=item: self._save(m))  # moved
        item.series_uid, plane = self._place()
        restored = record is not None
        if record is None:
            record = KeptMeasurement(kind, plane, index, (start.x(), start.y()), (end.x(), end.y()))
            if item.series_uid:
                self.kept.add(item.series_uid, record)
        item.record = record
        item.update()
        self._remember(item)
        self.items.append(item)
        if restored:
            item.saved_state = _saved_state(record)
        else:
            self._save(item)  # with its value
        return item

    def _remember(self, item: Measurement) -> None:
        """Keep the measurement's current points and shown value in its record."""
        if item.record is None:
            return
        item.record.start_mm, item.record.end_mm = item.defining_points()
        if item.result is not None:  # a pending ROI (slice not read yet) keeps its last value
            item.record.summary = item.label.textItem.toPlainText()

    def _save(self, item: Measurement) -> None:
        """Save the series' measurements once ``item`` is drawn or moved (not while drawing,
        and not when nothing changed: scrolling recomputes ROI values without a write)."""
        if item is self._drawing or item.record is None or not item.series_uid:
            return
        self._remember(item)
        state = _saved_state(item.record)
        if state != item.saved_state:
            item.saved_state = state
            self.kept.save(item.series_uid)

    def remove(self, item: Measurement) -> None:
        """Delete a measurement: off the view and out of its series' kept set."""
        if item.series_uid and item.record is not None:
            self.kept.remove(item.series_uid, item.record)
        self._detach(item)

    def _detach(self, item: Measurement) -> None:
        if item in self.items:
            self.items.remove(item)
            item.remove_from(self.view_box)

    def clear(self) -> None:
        """Delete every measurement of this view (they are forgotten for the series too)."""
        for item in list(self.items):
            self.remove(item)

    def detach_all(self) -> None:
        """Take the measurements off the view; their series keeps them."""
        for item in list(self.items):
            self._detach(item)

    def restore(self) -> None:
        """Draw again the kept measurements of the shown series on this view's plane."""
        series_uid, plane = self._place()
        for record in self.kept.for_series(series_uid, plane):
            self.add(record.kind, QPointF(*record.start_mm), QPointF(*record.end_mm),
                     record.slice_index, record=record)
        self.show_slice(self._current_slice())

    def show_slice(self, index: int) -> None:
        for item in self.items:
            item.set_visible(item.slice_index == index)
            if item.slice_index == index and item.kind != "distance":
                item.update()  # ROI statistics follow window-independent values of this slice

    def refresh_pending(self) -> None:
        """Compute ROI statistics that waited for their slice to be read."""
        for item in self.items:
            if item.kind != "distance" and item.result is None:
                item.update()


def _saved_state(record: KeptMeasurement) -> tuple:
    """What of a record the database holds (a change in it needs a write)."""
    return (record.plane, record.slice_index, tuple(record.start_mm), tuple(record.end_mm),
            record.summary)

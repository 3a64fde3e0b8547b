"""The time selection and the playback cursor, drawn the same on every review plot."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtCore import QObject, Signal

from stethoscan.gui.studio.review_waveform import cursor_line, selection_region

MIN_SELECTION_S = 0.005


class ReviewSelection(QObject):
    """One selection span (on ``plots``) and one cursor (on ``plots`` and ``cursor_plots``)."""

    changed = Signal()  # the selection span changed
    cursor_moved = Signal(float)  # s

    def __init__(self, plots: list[pg.PlotItem], cursor_plots: list[pg.PlotItem],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.regions = [selection_region() for _ in plots]
        for plot, region in zip(plots, self.regions, strict=True):
            plot.addItem(region)
            region.sigRegionChanged.connect(lambda r: self._follow(r))
            region.sigRegionChangeFinished.connect(lambda _r: self.changed.emit())
        self.cursors = [cursor_line() for _ in (*plots, *cursor_plots)]
        for plot, line in zip((*plots, *cursor_plots), self.cursors, strict=True):
            plot.addItem(line)
        self.cursor_s = 0.0

    def span(self) -> tuple[float, float] | None:
        """The selected (start s, end s), or None."""
        region = self.regions[0]
        if not region.isVisible():
            return None
        a, b = region.getRegion()
        return (float(a), float(b)) if b - a >= MIN_SELECTION_S else None

    def set_span(self, start_s: float, end_s: float, finished: bool = True) -> None:
        start_s, end_s = max(min(start_s, end_s), 0.0), max(start_s, end_s)
        for region in self.regions:
            region.blockSignals(True)
            region.setRegion((start_s, end_s))
            region.show()
            region.blockSignals(False)
        if finished:
            self.changed.emit()

    def clear(self) -> None:
        visible = self.regions[0].isVisible()
        for region in self.regions:
            region.hide()
        if visible:
            self.changed.emit()

    def set_cursor(self, t: float) -> None:
        self.cursor_s = max(float(t), 0.0)
        for line in self.cursors:
            line.setValue(self.cursor_s)
            line.show()
        self.cursor_moved.emit(self.cursor_s)

    def hide_cursor(self) -> None:
        self.cursor_s = 0.0
        for line in self.cursors:
            line.hide()

    def _follow(self, moved: pg.LinearRegionItem) -> None:
        a, b = moved.getRegion()
        for region in self.regions:
            if region is not moved:
                region.blockSignals(True)
                region.setRegion((a, b))
                region.blockSignals(False)

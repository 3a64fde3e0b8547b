"""Markers on a recording: labelled time spans drawn on the waveform and the spectrogram.

A marker is saved (in the patient database, through the review view) or *proposed*: an automatic
segment from the analysis that the clinician has not accepted yet. Proposed spans have dashed
edges and a "?" after their label. Every span can be dragged or resized on either plot (the other
follows). Accepting proposals turns them into saved markers with source ``auto``, or
``clinician`` when the clinician moved or relabelled them first.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyqtgraph as pg
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtGui import QColor, QFont, QFontMetricsF

from stethoscan.gui.studio.review_plot_style import edges_only, label_colour

MARKER_LABELS = ("inspiration", "expiration", "cough", "wheeze", "crackle", "voiced", "pause",
                 "artefact")
# Analysis labels not shown as spans: a breathing cycle is its inspiration plus its expiration.
_HIDDEN_WHEN_PARTS = {"cycle": ("inspiration", "expiration")}
MIN_MARKER_S = 0.005


@dataclass(eq=False)  # identity, not value: two markers may share times and label
class ReviewMarker:
    start_s: float
    end_s: float
    label: str
    source: str = "clinician"  # clinician | auto
    proposed: bool = False

    def row(self) -> tuple[float, float, str, str]:
        """The ``(start_s, end_s, label, source)`` tuple the patient store saves."""
        return (round(self.start_s, 4), round(self.end_s, 4), self.label, self.source)


def proposals_from_segments(segments: list[tuple[float, float, str]]) -> list[ReviewMarker]:
    """Proposed markers for the analysis segments (cycles hidden when their phases are there)."""
    labels = {label for _, _, label in segments}
    shown = [
        s for s in segments
        if not any(part in labels for part in _HIDDEN_WHEN_PARTS.get(s[2], ()))
    ]
    return [ReviewMarker(float(a), float(b), str(label), "auto", True) for a, b, label in shown if b > a]


class _Span:
    """The graphics of one marker: one region per plot and a label on the first plot."""

    def __init__(self, marker: ReviewMarker, plots: list[pg.PlotItem]) -> None:
        self.marker = marker
        self.regions = [self._region(i) for i in range(len(plots))]
        for plot, region in zip(plots, self.regions, strict=True):
            plot.addItem(region)
        # Labels are stacked in rows (proposals on the first) so overlapping spans stay readable.
        self.text_row = 0 if marker.proposed else 1
        self.text = pg.TextItem(anchor=(0, -1.15 * self.text_row))
        font = QFont()
        font.setPointSizeF(8.0)
        font.setBold(True)
        self.text.setFont(font)
        self.metrics = QFontMetricsF(font)
        self.text.setZValue(12)
        plots[0].addItem(self.text)
        self.plots = plots
        self.restyle(False)

    def _region(self, index: int) -> pg.LinearRegionItem:
        region = pg.LinearRegionItem(values=(self.marker.start_s, self.marker.end_s), swapMode="sort")
        region.setZValue(8 if index == 0 else 6)
        return edges_only(region)

    def restyle(self, highlighted: bool) -> None:
        colour = label_colour(self.marker.label)
        style = Qt.PenStyle.DashLine if self.marker.proposed else Qt.PenStyle.SolidLine
        for index, region in enumerate(self.regions):
            fill = QColor(colour)
            fill.setAlpha((70 if highlighted else 38) if index == 0 else (40 if highlighted else 14))
            region.setBrush(pg.mkBrush(fill))
            hover = QColor(colour)
            hover.setAlpha(90)
            region.setHoverBrush(pg.mkBrush(hover))
            for line in region.lines:
                line.setPen(pg.mkPen(colour, width=2.0 if highlighted else 1.2, style=style))
                line.setHoverPen(pg.mkPen(colour, width=2.5))
        self.text.setColor(colour)
        self.place_text()

    def place_text(self) -> None:
        """Put the label at the span's top left, shortened (or hidden) to fit the span's width."""
        plot = self.plots[0]
        top = plot.viewRange()[1][1]
        self.text.setAnchor((0, -1.15 * self.text_row))
        self.text.setPos(self.marker.start_s, top)
        seconds_per_px = plot.vb.viewPixelSize()[0] or 1.0
        width_px = (self.marker.end_s - self.marker.start_s) / seconds_per_px - 6
        suffix = " ?" if self.marker.proposed else ""
        label = self.marker.label
        for candidate in (f"{label}{suffix}", f"{label.split()[0]}{suffix}", f"{label[:3]}{suffix}", ""):
            if self.metrics.horizontalAdvance(candidate) <= width_px or not candidate:
                self.text.setText(candidate)
                return

    def set_times(self, start_s: float, end_s: float) -> None:
        for region in self.regions:
            region.blockSignals(True)
            region.setRegion((start_s, end_s))
            region.blockSignals(False)
        self.place_text()

    def remove(self) -> None:
        for plot, region in zip(self.plots, self.regions, strict=True):
            plot.removeItem(region)
        self.plots[0].removeItem(self.text)


class MarkerLayer(QObject):
    """The markers of the open recording and their spans on the plots."""

    changed = Signal()  # anything changed (the table redraws)
    saved_markers_edited = Signal()  # saved markers changed: the view writes them to the database

    def __init__(self, plots: list[pg.PlotItem], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.plots = plots
        self._spans: dict[int, _Span] = {}  # id(marker) -> span
        self.markers: list[ReviewMarker] = []
        self.highlighted: ReviewMarker | None = None
        plots[0].sigRangeChanged.connect(self._place_texts)
        self.changed.connect(self._place_texts)
        plots[0].vb.sigResized.connect(self._place_texts)

    # -- queries ------------------------------------------------------------------------------
    @property
    def saved(self) -> list[ReviewMarker]:
        return [m for m in self.markers if not m.proposed]

    @property
    def proposals(self) -> list[ReviewMarker]:
        return [m for m in self.markers if m.proposed]

    def saved_rows(self) -> list[tuple[float, float, str, str]]:
        return [m.row() for m in sorted(self.saved, key=lambda m: (m.start_s, m.end_s))]

    def regions_of(self, marker: ReviewMarker) -> list[pg.LinearRegionItem]:
        return self._spans[id(marker)].regions

    # -- changes ------------------------------------------------------------------------------
    def clear(self) -> None:
        for span in self._spans.values():
            span.remove()
        self._spans.clear()
        self.markers = []
        self.highlighted = None
        self.changed.emit()

    def set_saved(self, markers: list[ReviewMarker]) -> None:
        """Show the recording's saved markers (replacing everything shown)."""
        self.clear()
        for marker in markers:
            self._add(marker)
        self.changed.emit()

    def propose(self, proposals: list[ReviewMarker]) -> None:
        """Show automatic segments as proposals (replacing earlier proposals)."""
        for marker in self.proposals:
            self._remove(marker)
        for marker in proposals:
            self._add(marker)
        self.changed.emit()

    def add(self, start_s: float, end_s: float, label: str) -> ReviewMarker | None:
        """A clinician's marker from a selection; None if the span is too short."""
        start_s, end_s = sorted((float(start_s), float(end_s)))
        label = label.strip()
        if end_s - start_s < MIN_MARKER_S or not label:
            return None
        marker = self._add(ReviewMarker(start_s, end_s, label, "clinician"))
        self.changed.emit()
        self.saved_markers_edited.emit()
        return marker

    def remove(self, marker: ReviewMarker) -> None:
        was_saved = not marker.proposed
        self._remove(marker)
        self.changed.emit()
        if was_saved:
            self.saved_markers_edited.emit()

    def relabel(self, marker: ReviewMarker, label: str) -> None:
        label = label.strip()
        if not label or label == marker.label:
            return
        marker.label = label
        self._touched(marker)

    def set_times(self, marker: ReviewMarker, start_s: float, end_s: float) -> None:
        start_s, end_s = sorted((float(start_s), float(end_s)))
        if end_s - start_s < MIN_MARKER_S:
            self._spans[id(marker)].set_times(marker.start_s, marker.end_s)
            return
        marker.start_s, marker.end_s = start_s, end_s
        self._spans[id(marker)].set_times(start_s, end_s)
        self._touched(marker)

    def accept_proposals(self) -> int:
        """Turn every proposal into a saved marker; return how many."""
        proposals = self.proposals
        for marker in proposals:
            marker.proposed = False
            self._spans[id(marker)].restyle(marker is self.highlighted)
        self.changed.emit()
        if proposals:
            self.saved_markers_edited.emit()
        return len(proposals)

    def discard_proposals(self) -> None:
        for marker in self.proposals:
            self._remove(marker)
        self.changed.emit()

    def highlight(self, marker: ReviewMarker | None) -> None:
        previous, self.highlighted = self.highlighted, marker
        for item in (previous, marker):
            if item is not None and id(item) in self._spans:
                self._spans[id(item)].restyle(item is marker)

    # -- internals ----------------------------------------------------------------------------
    def _add(self, marker: ReviewMarker) -> ReviewMarker:
        span = _Span(marker, self.plots)
        self._spans[id(marker)] = span
        self.markers.append(marker)
        self.markers.sort(key=lambda m: (m.start_s, m.end_s))
        for region in span.regions:
            region.sigRegionChanged.connect(lambda r, s=span: self._follow(s, r))
            region.sigRegionChangeFinished.connect(lambda r, s=span: self._dragged(s, r))
        span.place_text()
        return marker

    def _remove(self, marker: ReviewMarker) -> None:
        span = self._spans.pop(id(marker), None)
        if span is not None:
            span.remove()
        self.markers = [m for m in self.markers if m is not marker]
        if self.highlighted is marker:
            self.highlighted = None

    def _touched(self, marker: ReviewMarker) -> None:
        """The clinician changed ``marker``: it is now theirs."""
        marker.source = "clinician"
        self.markers.sort(key=lambda m: (m.start_s, m.end_s))
        self._spans[id(marker)].restyle(marker is self.highlighted)
        self._spans[id(marker)].place_text()
        self.changed.emit()
        if not marker.proposed:
            self.saved_markers_edited.emit()

    def _follow(self, span: _Span, moved: pg.LinearRegionItem) -> None:
        start, end = moved.getRegion()
        for region in span.regions:
            if region is not moved:
                region.blockSignals(True)
                region.setRegion((start, end))
                region.blockSignals(False)
        span.text.setPos(start, span.text.pos().y())

    def _dragged(self, span: _Span, moved: pg.LinearRegionItem) -> None:
        start, end = moved.getRegion()
        if (start, end) != (span.marker.start_s, span.marker.end_s):
            self.set_times(span.marker, start, end)

    def _place_texts(self) -> None:
        self._assign_text_rows()
        for span in self._spans.values():
            span.place_text()

    def _assign_text_rows(self) -> None:
        """Proposals on row 0; each saved marker on the first row free at its start."""
        row_ends: list[float] = []
        for marker in self.saved:  # sorted by start
            row = next((i for i, end in enumerate(row_ends) if end <= marker.start_s + 1e-9), len(row_ends))
            if row == len(row_ends):
                row_ends.append(marker.end_s)
            row_ends[row] = marker.end_s
            self._spans[id(marker)].text_row = 1 + min(row, 3)
        for marker in self.proposals:
            self._spans[id(marker)].text_row = 0

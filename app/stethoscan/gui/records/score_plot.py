"""MMSE and MoCA over time, with the usual screening cut-offs shaded.

Cut-offs (scores below them suggest cognitive impairment and call for assessment; they depend
on age and education and are not a diagnosis):

- MMSE < 24: Folstein, Folstein & McHugh 1975, J Psychiatr Res 12:189-198; reviewed by
  Tombaugh & McIntyre 1992, J Am Geriatr Soc 40:922-935.
- MoCA < 26: Nasreddine et al. 2005, J Am Geriatr Soc 53:695-699.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from stethoscan.records.visit_dates import parse_date

MMSE_COLOUR = "#4fb3e8"
MOCA_COLOUR = "#f0a04b"
CUTOFFS = {"mmse": 24.0, "moca": 26.0}
CAPTION = ("Shaded: below the usual screening cut-offs, MMSE &lt; 24 (Folstein et al. 1975; "
           "Tombaugh &amp; McIntyre 1992) and MoCA &lt; 26 (Nasreddine et al. 2005). Cut-offs "
           "depend on age and education; they are not a diagnosis.")  # fmt: skip
_DAY_S = 86400.0


def visit_timestamp(visit_date: str) -> float | None:
    """Seconds since 1970 (UTC midnight) of a visit date, for the date axis."""
    day = parse_date(visit_date)
    if day is None:
        return None
    return datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp()


def score_series(visits: list[Any], key: str) -> tuple[np.ndarray, np.ndarray]:
    """(timestamps s, scores) of the visits that have score ``key``."""
    points = [(visit_timestamp(v.visit_date), getattr(v, key)) for v in visits]
    points = [(t, s) for t, s in points if t is not None and s is not None]
    if not points:
        return np.zeros(0), np.zeros(0)
    t, s = zip(*sorted(points), strict=True)
    return np.asarray(t, dtype=float), np.asarray(s, dtype=float)


def _tint(colour: str, alpha: int) -> QColor:
    c = QColor(colour)
    c.setAlpha(alpha)
    return c


class ScoreHistoryPlot(QWidget):
    """The plot and its caption."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("scoreHistoryPlot")
        self.plot = pg.PlotWidget(background="#101316", axisItems={"bottom": pg.DateAxisItem()})
        self.plot.setMinimumHeight(200)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("left", "Score (0-30)")
        self.plot.setLabel("bottom", "Visit date")
        self.plot.showGrid(x=False, y=True, alpha=0.15)
        self.plot.setYRange(0, 30.5, padding=0)
        self.plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.legend = self.plot.addLegend(offset=(10, -10), labelTextColor="#c8ced6")  # bottom left
        self._shade_cutoffs()
        self.curves = {
            "mmse": self.plot.plot([], [], name="MMSE", pen=pg.mkPen(MMSE_COLOUR, width=2),
                                   symbol="o", symbolSize=8, symbolBrush=MMSE_COLOUR, symbolPen=None),
            "moca": self.plot.plot([], [], name="MoCA", pen=pg.mkPen(MOCA_COLOUR, width=2),
                                   symbol="t", symbolSize=9, symbolBrush=MOCA_COLOUR, symbolPen=None),
        }  # fmt: skip
        caption = QLabel(CAPTION)
        caption.setObjectName("cutoffCaption")
        caption.setWordWrap(True)
        caption.setStyleSheet("color: #8d96a0; font-size: 8pt;")
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot, 1)
        layout.addWidget(caption)

    def _shade_cutoffs(self) -> None:
        for key, colour, name in (("mmse", MMSE_COLOUR, "MMSE < 24"), ("moca", MOCA_COLOUR, "MoCA < 26")):
            cutoff = CUTOFFS[key]
            region = pg.LinearRegionItem((0, cutoff), orientation="horizontal", movable=False,
                                         brush=_tint(colour, 22), pen=pg.mkPen(None))  # fmt: skip
            region.setZValue(-20)
            self.plot.addItem(region)
            line = pg.InfiniteLine(pos=cutoff, angle=0, movable=False,
                                   pen=pg.mkPen(colour, width=1, style=Qt.PenStyle.DashLine),
                                   label=name, labelOpts={"position": 0.97, "color": colour,
                                              "anchors": [(1, 0), (1, 0)] if key == "mmse" else [(1, 1), (1, 1)]})  # fmt: skip
            line.setZValue(-10)
            self.plot.addItem(line)

    def set_visits(self, visits: list[Any]) -> None:
        stamps = []
        for key, curve in self.curves.items():
            t, s = score_series(visits, key)
            curve.setData(t, s)
            stamps.extend(t.tolist())
        if stamps:
            lo, hi = min(stamps), max(stamps)
            pad = max((hi - lo) * 0.08, 45 * _DAY_S)
            self.plot.setXRange(lo - pad, hi + pad, padding=0)

    def plotted(self, key: str) -> tuple[np.ndarray, np.ndarray]:
        """The points of curve ``key`` ("mmse" or "moca") as drawn (timestamps, scores)."""
        x, y = self.curves[key].getData()
        return (np.zeros(0), np.zeros(0)) if x is None else (np.asarray(x), np.asarray(y))

"""Colours and fonts shared by the review plots (dark theme of ``resources/style/stethoscan.qss``)."""

from __future__ import annotations

import pyqtgraph as pg
from PySide6.QtGui import QColor, QFont

BACKGROUND = "#0f1215"
AXIS = "#8d96a0"
TEXT = "#c8ced6"
WAVEFORM = "#7cc4e8"
OVERVIEW = "#4d7f99"
SELECTION = QColor(63, 167, 214, 55)
SELECTION_EDGE = "#3fa7d6"
CURSOR = "#f5f7fa"
PITCH = "#00e5ff"
AXIS_WIDTH_PX = 64  # the same left-axis width on every plot keeps their time axes aligned

# Marker colours by label; anything else (a custom label) uses CUSTOM.
LABEL_COLOURS = {
    "inspiration": "#3fa7d6",
    "expiration": "#59c27a",
    "cycle": "#a0a8b0",
    "cough": "#e0694f",
    "wheeze": "#c792ea",
    "crackle": "#e8a33d",
    "voiced": "#4fc1b0",
    "unvoiced": "#7d8fb3",
    "pause": "#8d96a0",
    "artefact": "#d46a8c",
}
CUSTOM = "#b8c0c8"


def edges_only(region: pg.LinearRegionItem) -> pg.LinearRegionItem:
    """Let the user drag a region's edges but not its body, so a drag inside it still selects."""
    region.setMovable(False)
    for line in region.lines:
        line.setMovable(True)
    return region


def label_colour(label: str) -> QColor:
    """The colour of a marker label; plurals and "breathing cycle" count as their base label."""
    key = label.strip().lower()
    if key not in LABEL_COLOURS and key.endswith("s"):
        key = key[:-1]
    if "cycle" in key:
        key = "cycle"
    return QColor(LABEL_COLOURS.get(key, CUSTOM))


def style_plot(plot: pg.PlotItem, left_label: str, bottom_label: str | None = "Time (s)") -> None:
    """Readable axes with units, a fixed left-axis width and a subtle grid."""
    font = QFont()
    font.setPointSizeF(8.5)
    for name in ("left", "bottom", "right", "top"):
        axis = plot.getAxis(name)
        axis.setPen(pg.mkPen(AXIS))
        axis.setTextPen(pg.mkPen(TEXT))
        axis.setStyle(tickFont=font, tickTextOffset=4)
        axis.enableAutoSIPrefix(False)
    plot.getAxis("left").setWidth(AXIS_WIDTH_PX)
    plot.setLabel("left", left_label, color=TEXT, size="9pt")
    if bottom_label:
        plot.setLabel("bottom", bottom_label, color=TEXT, size="9pt")
    plot.showGrid(x=True, y=True, alpha=0.12)
    plot.hideButtons()
    plot.setMenuEnabled(False)

"""A big vertical level meter in dBFS: RMS bar, peak bar, peak-hold line, latched clip light.

The numbers come from :class:`stethoscan.audio.level_metering.LevelMeter`; this widget only
paints them. The scale runs from :data:`SCALE_FLOOR_DBFS` to 0 dBFS with labelled ticks; the
green bracket marks the level a voice or breath take should reach (:data:`GOOD_RANGE_DBFS`). The
clip light stays red once the sound reached full scale, until it is clicked.
"""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import QRectF, QSize, Qt, Signal
from PySide6.QtGui import QColor, QFont, QMouseEvent, QPainter, QPaintEvent, QPen, QPixmap
from PySide6.QtWidgets import QSizePolicy, QWidget

from stethoscan.audio.level_metering import FLOOR_DBFS, LevelMeter, LevelReading

SCALE_FLOOR_DBFS = -60.0
TICKS_DBFS = (0, -3, -6, -12, -18, -24, -30, -40, -50, -60)
GOOD_RANGE_DBFS = (-30.0, -6.0)  # peaks of a good take land here
WARN_DBFS = -6.0  # above this the bar turns amber ...
CLIP_DBFS = -1.0  # ... and red from here
FALL_DB_PER_S = 24.0  # how fast the bars fall after a loud moment (peak programme meter)

_BACKGROUND = QColor("#0f1215")
_TROUGH = QColor("#181c21")
_GOOD_BAND = QColor(89, 194, 122, 170)
_TEXT = QColor("#c8ced6")
_DIM = QColor("#7d8590")
_BAR = QColor("#4fc1b0")
_BAR_PEAK = QColor(79, 193, 176, 110)
_AMBER = QColor("#e8b13d")
_RED = QColor("#e0694f")
_HOLD = QColor("#f5f7fa")


class LevelMeterWidget(QWidget):
    """Vertical meter; feed it with :meth:`push` (blocks) on the GUI timer.

    Signals
    -------
    clip_reset
        The user clicked the clip light to clear it.
    """

    clip_reset = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("levelMeter")
        self.setMinimumSize(92, 200)
        self.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Expanding)
        self.setToolTip("Input level in dBFS (0 = the loudest the microphone can record).\n"
                        "Aim for peaks beside the green bracket; the number is the loudest peak of the take.\n"
                        "Click CLIP to reset the clip light.")
        self._meter: LevelMeter | None = None
        self.reading: LevelReading | None = None
        self.bar_rms_dbfs = FLOOR_DBFS
        self.bar_peak_dbfs = FLOOR_DBFS
        self.max_peak_dbfs = FLOOR_DBFS  # loudest peak since start()
        self.clipped = False
        self._scale_cache: tuple[tuple[int, int, float], QPixmap] | None = None

    # -- data ---------------------------------------------------------------------------------
    def start(self, rate_hz: int) -> None:
        """A new take at ``rate_hz`` (Hz): forget the hold, the clip latch and the maximum."""
        self._meter = LevelMeter(rate_hz)
        self.reading = None
        self.bar_rms_dbfs = self.bar_peak_dbfs = self.max_peak_dbfs = FLOOR_DBFS
        self.clipped = False
        self.update()

    def push(self, block: np.ndarray) -> None:
        """Meter the samples that arrived since the last timer tick (float, full scale 1.0)."""
        if self._meter is None or block.size == 0:
            return
        reading = self._meter.update(block)
        fall = FALL_DB_PER_S * block.shape[0] / self._meter.rate_hz
        self.bar_rms_dbfs = max(reading.rms_dbfs, self.bar_rms_dbfs - fall)
        self.bar_peak_dbfs = max(reading.peak_dbfs, self.bar_peak_dbfs - fall)
        self.max_peak_dbfs = max(self.max_peak_dbfs, reading.peak_dbfs)
        self.clipped = reading.clipped
        self.reading = reading
        self.update()

    def decay(self, seconds: float) -> None:
        """Let the bars fall when no sound arrives (paused, stopped)."""
        fall = FALL_DB_PER_S * seconds
        self.bar_rms_dbfs = max(self.bar_rms_dbfs - fall, FLOOR_DBFS)
        self.bar_peak_dbfs = max(self.bar_peak_dbfs - fall, FLOOR_DBFS)
        self.update()

    def reset_clip(self) -> None:
        if self._meter is not None:
            self._meter.reset_clip()
        self.clipped = False
        self.update()
        self.clip_reset.emit()

    @property
    def hold_dbfs(self) -> float:
        return self.reading.peak_hold_dbfs if self.reading is not None else FLOOR_DBFS

    # -- geometry -----------------------------------------------------------------------------
    def sizeHint(self) -> QSize:  # noqa: N802 (Qt API)
        return QSize(96, 320)

    def clip_rect(self) -> QRectF:
        return QRectF(6, 6, self.width() - 12, 24)

    def _bar_rect(self) -> QRectF:
        top, bottom = 40.0, self.height() - 46.0
        return QRectF(self.width() - 42.0, top, 28.0, max(bottom - top, 10.0))

    def _y(self, dbfs: float, bar: QRectF) -> float:
        level = min(max(dbfs, SCALE_FLOOR_DBFS), 0.0)
        return bar.bottom() - (level - SCALE_FLOOR_DBFS) / -SCALE_FLOOR_DBFS * bar.height()

    # -- input --------------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:  # noqa: N802
        if self.clip_rect().contains(event.position()):
            self.reset_clip()
            event.accept()
            return
        super().mousePressEvent(event)

    # -- painting -----------------------------------------------------------------------------
    def paintEvent(self, event: QPaintEvent) -> None:  # noqa: N802
        painter = QPainter(self)  # no antialiasing: all but the clip light are upright rectangles
        bar = self._bar_rect()
        painter.drawPixmap(0, 0, self._scale_pixmap(bar))
        self._paint_clip_light(painter)
        self._paint_bars(painter, bar)
        self._paint_readout(painter, bar)
        painter.end()

    def _scale_pixmap(self, bar: QRectF) -> QPixmap:
        """The background, trough, bracket and labelled ticks, drawn once per size."""
        ratio = self.devicePixelRatioF()
        key = (self.width(), self.height(), ratio)
        if self._scale_cache is None or self._scale_cache[0] != key:
            pixmap = QPixmap(int(self.width() * ratio), int(self.height() * ratio))
            pixmap.setDevicePixelRatio(ratio)
            pixmap.fill(_BACKGROUND)
            painter = QPainter(pixmap)
            painter.setFont(self.font())
            self._paint_scale(painter, bar)
            painter.end()
            self._scale_cache = (key, pixmap)
        return self._scale_cache[1]

    def _paint_clip_light(self, painter: QPainter) -> None:
        rect = self.clip_rect()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, True)
        painter.setPen(QPen(_RED if self.clipped else QColor("#3a424c"), 1.2))
        painter.setBrush(_RED if self.clipped else _TROUGH)
        painter.drawRoundedRect(rect, 4, 4)
        font = QFont(self.font())
        font.setPointSizeF(9.0)
        font.setBold(True)
        painter.setFont(font)
        painter.setPen(QColor("#ffffff") if self.clipped else _DIM)
        painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "CLIP")
        painter.setRenderHint(QPainter.RenderHint.Antialiasing, False)

    def _paint_scale(self, painter: QPainter, bar: QRectF) -> None:
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_TROUGH)
        painter.drawRect(bar)
        top, bottom = self._y(GOOD_RANGE_DBFS[1], bar), self._y(GOOD_RANGE_DBFS[0], bar)
        painter.setBrush(_GOOD_BAND)  # a bracket right of the bar: where the peaks should land
        painter.drawRect(QRectF(bar.right() + 3, top, 4, bottom - top))
        font = QFont(self.font())
        font.setPointSizeF(8.5)
        painter.setFont(font)
        metrics = painter.fontMetrics()
        last_label_y = -1e9
        for tick in TICKS_DBFS:
            y = self._y(tick, bar)
            painter.setPen(QPen(_DIM, 1))
            painter.drawLine(int(bar.left() - 6), int(y), int(bar.left() - 1), int(y))
            if y - last_label_y < metrics.height():  # a short meter labels fewer ticks
                continue
            last_label_y = y
            text = f"{tick:d}".replace("-", "−")
            painter.setPen(_TEXT)
            painter.drawText(int(bar.left() - 9 - metrics.horizontalAdvance(text)),
                             int(y + metrics.ascent() / 2 - 1), text)

    def _paint_bars(self, painter: QPainter, bar: QRectF) -> None:
        peak_y, rms_y = self._y(self.bar_peak_dbfs, bar), self._y(self.bar_rms_dbfs, bar)
        painter.setPen(Qt.PenStyle.NoPen)
        painter.setBrush(_BAR_PEAK)
        painter.drawRect(QRectF(bar.left(), peak_y, bar.width(), bar.bottom() - peak_y))
        painter.setBrush(_level_colour(self.bar_rms_dbfs))
        painter.drawRect(QRectF(bar.left() + 5, rms_y, bar.width() - 10, bar.bottom() - rms_y))
        if self.hold_dbfs > SCALE_FLOOR_DBFS:
            hold_y = self._y(self.hold_dbfs, bar)
            painter.setPen(QPen(_level_colour(self.hold_dbfs, hold=True), 2.5))
            painter.drawLine(int(bar.left()), int(hold_y), int(bar.right()), int(hold_y))

    def _paint_readout(self, painter: QPainter, bar: QRectF) -> None:
        big = QFont(self.font())
        big.setPointSizeF(13.0)
        big.setBold(True)
        painter.setFont(big)
        loudest = self.max_peak_dbfs
        painter.setPen(_level_colour(loudest, hold=True))
        text = "–∞" if loudest <= FLOOR_DBFS else f"{loudest:.1f}"
        area = QRectF(0, bar.bottom() + 4, self.width(), 22)
        painter.drawText(area, Qt.AlignmentFlag.AlignCenter, text.replace("-", "−"))
        small = QFont(self.font())
        small.setPointSizeF(8.0)
        painter.setFont(small)
        painter.setPen(_DIM)
        painter.drawText(QRectF(0, bar.bottom() + 24, self.width(), 16),
                         Qt.AlignmentFlag.AlignCenter, "max dBFS")


def _level_colour(dbfs: float, hold: bool = False) -> QColor:
    if dbfs >= CLIP_DBFS:
        return _RED
    if dbfs >= WARN_DBFS:
        return _AMBER
    return _HOLD if hold else _BAR

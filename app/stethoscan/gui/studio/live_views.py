"""The studio's live views side by side: the level meter, the waveform and the spectrogram.

The studio feeds them what its ~30 Hz timer drained from the recorder; the meter moves on every
feed, the two plots are redrawn on every second one (~15 Hz, half the cost).
"""

from __future__ import annotations

from typing import Any

import numpy as np
from PySide6.QtWidgets import QHBoxLayout, QVBoxLayout, QWidget

from stethoscan.audio.live_spectrogram import LiveSpectrogram
from stethoscan.gui.studio.live_meter import LevelMeterWidget
from stethoscan.gui.studio.live_spectrogram_view import LiveSpectrogramView, new_live_spectrogram
from stethoscan.gui.studio.live_waveform import LiveWaveformView

PLOT_EVERY_FEEDS = 2  # the waveform and spectrogram are redrawn at half the feed rate


def prepare_spectrogram(rate_hz: int, task: Any = None) -> LiveSpectrogram:
    """Worker function: build a live spectrogram once so librosa is loaded before Record."""
    return new_live_spectrogram(rate_hz)


class LiveViews(QWidget):
    """Meter | waveform over spectrogram; :attr:`spare` is a spectrogram built ahead in a worker."""

    def __init__(self, dynamic_range_db: float, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.setSpacing(6)
        self.meter = LevelMeterWidget()
        plots = QVBoxLayout()
        plots.setSpacing(2)
        self.waveform = LiveWaveformView()
        self.spectrogram = LiveSpectrogramView(dynamic_range_db=dynamic_range_db)
        plots.addWidget(self.waveform, 2)
        plots.addWidget(self.spectrogram, 3)
        row.addWidget(self.meter)
        row.addLayout(plots, 1)
        self.spare: LiveSpectrogram | None = None
        self._feeds = 0

    def keep_spare(self, spectrogram: LiveSpectrogram, show_axis: bool) -> None:
        """Keep a ready spectrogram for the next take; ``show_axis`` draws its empty Hz axis now."""
        self.spare = spectrogram
        if show_axis and self.spectrogram.column_count == 0:
            self.spectrogram.start(spectrogram)

    def spectrogram_for(self, rate_hz: int) -> LiveSpectrogram:
        """The spare spectrogram if it is for ``rate_hz`` (it is used up), else a new one."""
        spare, self.spare = self.spare, None
        if spare is not None and spare.rate_hz == rate_hz:
            return spare
        return new_live_spectrogram(rate_hz)

    def start(self, rate_hz: int, spectrogram: LiveSpectrogram) -> None:
        """Clear the views for a new take at ``rate_hz``."""
        self.meter.start(rate_hz)
        self.waveform.start(rate_hz)
        self.spectrogram.start(spectrogram)

    def feed(self, blocks: list[np.ndarray], interval_s: float) -> None:
        """Show the blocks drained since the last feed, ``interval_s`` seconds ago."""
        if blocks:
            data = np.concatenate(blocks) if len(blocks) > 1 else blocks[0]
            self.meter.push(data)
            self.waveform.push(data)
            self.spectrogram.push(data)
        else:
            self.meter.decay(interval_s)
        self._feeds += 1
        if self._feeds % PLOT_EVERY_FEEDS == 0:
            self.waveform.refresh()
            self.spectrogram.refresh()

    def settle(self) -> None:
        """The take has ended: the meter falls, the plots show everything received."""
        self.meter.decay(60.0)
        self.waveform.refresh()
        self.spectrogram.refresh()

"""The spectrogram's controls: frequency scale, dynamic range (dB), colour map, top frequency."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QSpinBox, QWidget

from stethoscan.gui.studio.review_spectrogram import COLOUR_MAP_NAMES, COLOUR_MAPS

TOP_FREQUENCIES_HZ = (1000, 2000, 4000, 8000, 16000)
DEFAULT_TOP_HZ = 4000


class SpectrogramControls(QWidget):
    scale_changed = Signal(str)  # "linear" | "mel"
    dynamic_range_changed = Signal(float)  # dB
    colour_map_changed = Signal(str)
    max_frequency_changed = Signal(object)  # Hz, or None for the Nyquist frequency

    def __init__(self, dynamic_range_db: float = 80.0, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.scale_combo = QComboBox()
        self.scale_combo.addItem("Linear", "linear")
        self.scale_combo.addItem("Mel", "mel")
        self.scale_combo.setToolTip("Frequency scale of the spectrogram (linear or mel)")
        self.range_spin = QSpinBox()
        self.range_spin.setRange(20, 140)
        self.range_spin.setSingleStep(10)
        self.range_spin.setSuffix(" dB")
        self.range_spin.setValue(int(dynamic_range_db))
        self.range_spin.setToolTip("Dynamic range: levels this far below the loudest are black")
        self.colour_combo = QComboBox()
        for name in COLOUR_MAPS:
            self.colour_combo.addItem(COLOUR_MAP_NAMES[name], name)
        self.colour_combo.setToolTip("Colour map of the spectrogram")
        self.top_combo = QComboBox()
        self.top_combo.setToolTip("Highest frequency shown (Hz)")
        self.top_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.top_combo.setMinimumContentsLength(8)
        self.set_nyquist(None)
        self.scale_combo.currentIndexChanged.connect(lambda: self.scale_changed.emit(self.scale()))
        self.range_spin.valueChanged.connect(lambda v: self.dynamic_range_changed.emit(float(v)))
        self.colour_combo.currentIndexChanged.connect(
            lambda: self.colour_map_changed.emit(str(self.colour_combo.currentData())))
        self.top_combo.currentIndexChanged.connect(
            lambda: self.max_frequency_changed.emit(self.top_combo.currentData()))
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        # No captions: each control's tooltip says what it sets (the row fits a laptop screen).
        for widget in (self.scale_combo, self.range_spin, self.colour_combo, self.top_combo):
            layout.addWidget(widget)

    def scale(self) -> str:
        return str(self.scale_combo.currentData())

    def max_frequency(self) -> float | None:
        return self.top_combo.currentData()

    def set_nyquist(self, nyquist_hz: float | None) -> None:
        """Offer the top frequencies below the recording's Nyquist frequency (Hz)."""
        self.top_combo.blockSignals(True)
        self.top_combo.clear()
        for hz in TOP_FREQUENCIES_HZ:
            if nyquist_hz is None or hz < nyquist_hz:
                self.top_combo.addItem(f"{hz / 1000:g} kHz", float(hz))
        nyquist_text = f"{nyquist_hz / 1000:g} kHz (all)" if nyquist_hz else "All"
        self.top_combo.addItem(nyquist_text, None)
        index = self.top_combo.findData(float(DEFAULT_TOP_HZ))
        self.top_combo.setCurrentIndex(index if index >= 0 else self.top_combo.count() - 1)
        self.top_combo.blockSignals(False)

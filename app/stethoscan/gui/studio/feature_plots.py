"""Per-segment features as images and plots: log-mel, MFCC (+ deltas), LPC envelope, descriptors.

The arrays come from ``audio.analysis.features`` (10 ms frames). The LPC envelope is drawn over
the segment's Welch power spectrum on the same scale (``10 log10(PSD * fs / 2)``, where the
all-pole model ``gain^2 / |A|^2`` of a signal lies), so the clinician sees how well the formants
or resonances are captured.
"""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Signal
from PySide6.QtWidgets import QComboBox, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from stethoscan.gui.studio.review_plot_style import BACKGROUND, TEXT, style_plot

FRAME_S = 0.010  # features.HOP_S
VIEWS = ("Log-mel spectrogram", "MFCC", "MFCC delta", "MFCC delta-delta",
         "LPC envelope vs spectrum", "Spectral descriptors")
_IMAGE_OF_VIEW = {"Log-mel spectrogram": ("log_mel_db", "Mel band centre (Hz)", "Level (dB)"),
                  "MFCC": ("mfcc", "Coefficient", "MFCC"),
                  "MFCC delta": ("mfcc_delta", "Coefficient", "Δ MFCC"),
                  "MFCC delta-delta": ("mfcc_delta2", "Coefficient", "ΔΔ MFCC")}
_DESCRIPTOR_PENS = {"centroid_hz": ("#3fa7d6", "Spectral centroid (Hz)"),
                    "bandwidth_hz": ("#59c27a", "Spectral bandwidth (Hz)"),
                    "rolloff_hz": ("#e8a33d", "Roll-off 85 % (Hz)")}


def mel_band_ticks(n_mels: int, rate_hz: float, count: int = 6) -> list[tuple[float, str]]:
    """Left-axis ticks of a log-mel image: band index (centre of its row) -> centre frequency in Hz
    (librosa's mel bands, 0 Hz to half the sampling rate, as ``audio.analysis.features`` uses)."""
    import librosa

    centres = librosa.mel_frequencies(n_mels + 2, fmin=0.0, fmax=rate_hz / 2.0)[1:-1]
    bands = np.unique(np.linspace(0, n_mels - 1, min(count, n_mels)).round().astype(int))
    return [(band + 0.5, f"{centres[band]:.0f}") for band in bands]


def segment_spectrum_db(samples: np.ndarray, rate_hz: float) -> tuple[np.ndarray, np.ndarray]:
    """Frequencies (Hz) and the Welch power spectrum of a segment, dB on the LPC envelope's scale."""
    from scipy.signal import welch

    x = np.asarray(samples, dtype=np.float64)
    if x.size < 16:
        return np.zeros(0), np.zeros(0)
    freqs, psd = welch(x - x.mean(), fs=rate_hz, nperseg=min(512, x.size))
    return freqs, 10.0 * np.log10(np.maximum(psd * rate_hz / 2.0, 1e-20))


class FeatureView(QWidget):
    """Choose a segment and a feature; see it as an image or a plot; export the CSV."""

    export_requested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.segment_combo = QComboBox()
        self.view_combo = QComboBox()
        for combo in (self.segment_combo, self.view_combo):  # long entries do not widen the window
            combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
            combo.setMinimumContentsLength(8)
        self.view_combo.addItems(VIEWS)
        self.export_button = QPushButton("Export features CSV…")
        self.export_button.setToolTip("One row per segment: MFCC means/SD, deltas, LPC, descriptors")
        self.export_button.clicked.connect(self.export_requested)
        self.plot_widget = pg.PlotWidget(background=BACKGROUND)
        self.plot: pg.PlotItem = self.plot_widget.getPlotItem()
        self.image = pg.ImageItem(axisOrder="row-major")
        self.colour_bar = pg.ColorBarItem(values=(0, 1), colorMap=pg.colormap.get("viridis"),
                                          interactive=False, width=12)
        self.colour_bar.setImageItem(self.image, insert_in=self.plot)
        self.colour_bar.getAxis("right").setTextPen(pg.mkPen(TEXT))
        self.legend = self.plot.addLegend(offset=(-8, 8), labelTextColor=TEXT, labelTextSize="8pt",
                                          brush=pg.mkBrush(15, 18, 21, 200))
        self.segment_combo.currentIndexChanged.connect(self.redraw)
        self.view_combo.currentIndexChanged.connect(self.redraw)
        chooser = QHBoxLayout()
        self.segment_combo.setToolTip("Segment whose features are shown")
        self.view_combo.setToolTip("Feature view")
        chooser.addWidget(self.segment_combo, 1)
        chooser.addWidget(self.view_combo, 1)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 4, 0, 0)
        layout.addLayout(chooser)
        layout.addWidget(self.plot_widget, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.export_button)
        layout.addLayout(row)
        self._features: list = []
        self._source: tuple[np.ndarray, float] | None = None
        self.set_features([], None)

    def set_features(self, features: list, source: tuple[np.ndarray, float] | None) -> None:
        """``features``: ``SegmentFeatures`` list; ``source``: (samples, rate Hz) they came from."""
        self._features, self._source = list(features), source
        self.segment_combo.blockSignals(True)
        self.segment_combo.clear()
        for i, f in enumerate(self._features, start=1):
            self.segment_combo.addItem(f"{i}. {f.label}  {f.start_s:.2f}–{f.end_s:.2f} s")
        self.segment_combo.blockSignals(False)
        self.export_button.setEnabled(bool(self._features))
        self.redraw()

    def current_view(self) -> str:
        return self.view_combo.currentText()

    def redraw(self) -> None:
        self.plot.clear()
        self.plot.getAxis("left").setTicks(None)  # automatic ticks unless the log-mel view sets Hz
        self.legend.clear()
        self.legend.hide()
        self.colour_bar.hide()
        index = self.segment_combo.currentIndex()
        if not self._features or index < 0:
            empty = ("The analysis found no segments, so there are no per-segment features"
                     if self._source is not None else "Run the analysis to see per-segment features")
            self.plot.setTitle(empty, color=TEXT, size="9pt")
            return
        self.plot.setTitle(None)
        feature = self._features[index]
        view = self.current_view()
        if view in _IMAGE_OF_VIEW:
            self._draw_image(feature, *_IMAGE_OF_VIEW[view])
        elif view.startswith("LPC"):
            self._draw_lpc(feature)
        else:
            self._draw_descriptors(feature)

    def _draw_image(self, feature, attribute: str, y_label: str, level_label: str) -> None:
        data = np.asarray(getattr(feature, attribute), dtype=np.float32)
        self.plot.addItem(self.image)
        self.image.setImage(data, autoLevels=False)
        frames = max(data.shape[1], 1)
        self.image.setRect(QRectF(feature.start_s, 0, frames * FRAME_S, data.shape[0]))
        finite = data[np.isfinite(data)]
        low, high = (float(np.percentile(finite, 1)), float(np.percentile(finite, 99))) if finite.size else (0.0, 1.0)
        self.colour_bar.setLevels((low, high if high > low else low + 1.0))
        self.colour_bar.getAxis("right").setLabel(level_label, color=TEXT)
        self.colour_bar.show()
        style_plot(self.plot, y_label)
        if attribute == "log_mel_db" and self._source is not None:
            self.plot.getAxis("left").setTicks([mel_band_ticks(data.shape[0], self._source[1])])
        self.plot.setMouseEnabled(x=True, y=True)
        self.plot.autoRange(padding=0)

    def _draw_lpc(self, feature) -> None:
        style_plot(self.plot, "Level (dB)", bottom_label="Frequency (Hz)")
        if self._source is not None:
            samples, rate = self._source
            segment = samples[int(feature.start_s * rate) : int(feature.end_s * rate)]
            freqs, spectrum = segment_spectrum_db(segment, rate)
            self.plot.addItem(pg.PlotDataItem(freqs, spectrum, pen=pg.mkPen("#8d96a0", width=1),
                                              name="Spectrum (Welch)"))
        self.plot.addItem(pg.PlotDataItem(feature.lpc_freqs_hz, feature.lpc_envelope_db,
                                          pen=pg.mkPen("#f0c75e", width=2.2),
                                          name=f"LPC envelope (order {len(feature.lpc) - 1})"))
        self.legend.show()
        self.plot.autoRange()

    def _draw_descriptors(self, feature) -> None:
        style_plot(self.plot, "Frequency (Hz)")
        for key, (colour, name) in _DESCRIPTOR_PENS.items():
            values = np.asarray(feature.descriptors.get(key, []), dtype=float)
            times = feature.start_s + np.arange(values.size) * FRAME_S
            self.plot.addItem(pg.PlotDataItem(times, values, pen=pg.mkPen(colour, width=1.6), name=name))
        self.legend.show()
        self.plot.autoRange()


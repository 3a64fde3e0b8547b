"""A recording's log-mel spectrogram with a model's saliency map over it, and its cycles.

The background is computed with the model's own feature parameters (``[input.audio]`` of its
manifest), so its mel bands are the map's rows. The vertical axis is in mel bands, labelled in
Hz; the horizontal axis is time in seconds from the start of the recording.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyqtgraph as pg
from PySide6.QtCore import QRectF, Qt
from PySide6.QtGui import QColor
from PySide6.QtWidgets import QVBoxLayout, QWidget

from stethoscan.gui.viewer.scan_overlay_items import heatmap_lut

FINDING_COLOURS = {"crackle": "#ff8a65", "wheeze": "#ffd54f", "both": "#f06292", "normal": "#81c784"}
_NICE_HZ = (50, 100, 200, 300, 500, 700, 1000, 1500, 2000, 3000, 4000, 6000, 8000)


def recording_log_mel(path: str, model_name: str, task: Any = None) -> dict[str, Any]:
    """Log-mel (dB, mel bands x frames) of the recording at ``path`` with the model's features.

    Runs in the io pool. Returns ``{"db": array, "times_s": frame centres}``.
    """
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.inference import registry
    from stethoscan.training.respiratory_features import PatchSpec, log_mel_db, to_model_rate

    audio = registry.find_package(model_name).manifest.input.audio
    if audio is None:
        raise ValueError(f"{model_name} has no audio input")
    spec = PatchSpec.from_manifest(audio)
    clip = read_audio(path)
    db = log_mel_db(to_model_rate(clip.mono(), clip.rate_hz, spec), spec)
    return {"db": db.astype(np.float32), "times_s": spec.frame_times_s(db.shape[1])}


def hz_ticks(frequencies_hz: np.ndarray) -> list[tuple[float, str]]:
    """Tick positions (band index, centred) labelled with round frequencies (Hz)."""
    f = np.asarray(frequencies_hz, dtype=float)
    if f.size < 2:
        return []
    ticks = []
    for hz in _NICE_HZ:
        if f[0] <= hz <= f[-1]:
            ticks.append((float(np.interp(hz, f, np.arange(f.size))) + 0.5, f"{hz:g}"))
    return ticks


def _frame_rect(times_s: np.ndarray, rows: int) -> QRectF:
    times = np.asarray(times_s, dtype=float)
    step = float(times[1] - times[0]) if times.size > 1 else 0.02
    return QRectF(times[0] - step / 2, 0.0, step * times.size, float(rows))


class SpectrogramSaliencyView(QWidget):
    """pyqtgraph plot: grey log-mel image, coloured saliency overlay, cycle boundaries."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("spectrogramSaliency")
        self.plot = pg.PlotWidget(background="#000000")
        self.plot.setMinimumHeight(230)
        self.plot.setMenuEnabled(False)
        self.plot.setLabel("bottom", "Time (s)")
        self.plot.setLabel("left", "Frequency (Hz)")
        self.plot.getViewBox().setMouseEnabled(x=True, y=False)
        self.background = pg.ImageItem(axisOrder="row-major")
        self.overlay = pg.ImageItem(axisOrder="row-major")
        self.overlay.setZValue(5)
        self.plot.addItem(self.background)
        self.plot.addItem(self.overlay)
        self._cycle_items: list[Any] = []
        self.saliency: np.ndarray | None = None
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        self.set_colormap("inferno")

    def set_background(self, db: np.ndarray | None, times_s: np.ndarray | None) -> None:
        """The recording's log-mel in dB (shown in grey, 60 dB range below its peak)."""
        if db is None or times_s is None or db.size == 0:
            self.background.clear()
            return
        top = float(np.percentile(db, 99.5))
        self.background.setImage(np.ascontiguousarray(db, dtype=np.float32), autoLevels=False,
                                 levels=(top - 60.0, top))  # fmt: skip
        self.background.setRect(_frame_rect(times_s, db.shape[0]))

    def set_saliency(self, saliency: np.ndarray | None, axes: dict[str, Any]) -> None:
        """The map (mel bands x frames, [0, 1]) on ``axes`` (``times_s``, ``frequencies_hz``)."""
        self.saliency = saliency
        if saliency is None or not axes.get("times_s"):
            self.overlay.clear()
            return
        self.overlay.setImage(np.ascontiguousarray(saliency, dtype=np.float32), autoLevels=False,
                              levels=(0.0, max(float(saliency.max()), 1e-6)))  # fmt: skip
        times = np.asarray(axes["times_s"], dtype=float)[: saliency.shape[1]]
        self.overlay.setRect(_frame_rect(times, saliency.shape[0]))
        freqs = axes.get("frequencies_hz") or []
        self.plot.getAxis("left").setTicks([hz_ticks(np.asarray(freqs)), []])
        self.plot.setYRange(0, saliency.shape[0], padding=0)
        self.plot.setXRange(float(times[0]), float(times[-1]), padding=0.01)

    def set_cycles(self, cycles: list[dict[str, Any]], rows: int) -> None:
        """Breathing cycles: boundaries as dashed lines, abnormal findings named at the top."""
        for item in self._cycle_items:
            self.plot.removeItem(item)
        self._cycle_items = []
        pen = pg.mkPen(QColor(200, 206, 214, 140), width=1, style=Qt.PenStyle.DashLine)
        for cycle in cycles:
            line = pg.InfiniteLine(pos=float(cycle["start_s"]), angle=90, pen=pen)
            self.plot.addItem(line)
            self._cycle_items.append(line)
            label = str(cycle.get("label", ""))
            if label and label != "normal":
                text = pg.TextItem(label, color=FINDING_COLOURS.get(label, "#ffffff"), anchor=(0, 0))
                text.setPos(float(cycle["start_s"]), float(rows))
                self.plot.addItem(text)
                self._cycle_items.append(text)

    def set_colormap(self, name: str) -> None:
        self.overlay.setLookupTable(heatmap_lut(name))

    def set_opacity(self, opacity: float) -> None:
        self.overlay.setOpacity(float(opacity))

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay.setVisible(bool(visible))

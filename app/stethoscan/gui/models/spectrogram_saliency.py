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
from PySide6.QtWidgets import QLabel, QVBoxLayout, QWidget

from stethoscan.gui.viewer.scan_overlay_items import heatmap_lut

FINDING_COLOURS = {"crackle": "#ff8a65", "wheeze": "#ffd54f", "both": "#f06292", "normal": "#81c784"}
STRIP_ROWS = 4.0  # height of the cycle strip above the spectrogram, in mel bands
LEGEND_HTML = "Strip above: each breathing cycle's finding — " + " ".join(
    f"<span style='color:{c}'>■</span> {name}" for name, c in FINDING_COLOURS.items())
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


def visible_map(saliency: np.ndarray, frames_per_mark: int = 250) -> np.ndarray:
    """The map as drawn: each value widened in time to its running maximum over about 1/250 of
    the frames, so that a single-frame peak (a crackle, or a pixel-level Integrated Gradients
    attribution) stays visible when a long recording is shown in a few hundred pixels. Peaks keep
    their position and value; the map itself (``self.saliency``) is unchanged."""
    from scipy import ndimage

    data = np.ascontiguousarray(saliency, dtype=np.float32)
    width = 2 * (data.shape[-1] // (2 * frames_per_mark)) + 1
    return ndimage.maximum_filter(data, size=(1, width)) if width > 1 else data


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
        self.plot.setMinimumHeight(220)
        self.plot.setMaximumHeight(320)
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
        self.legend = QLabel(LEGEND_HTML)
        self.legend.setStyleSheet("color: #8d96a0; font-size: 8pt;")
        self.legend.setVisible(False)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.plot)
        layout.addWidget(self.legend)
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
        """The map (mel bands x frames, [0, 1]; None: no map) on ``axes`` (``times_s``,
        ``frequencies_hz``), which also set the frequency ticks and the time range."""
        self.saliency = saliency
        freqs = np.asarray(axes.get("frequencies_hz") or [], dtype=float)
        times = np.asarray(axes.get("times_s") or [], dtype=float)
        self.plot.getAxis("left").setTicks([hz_ticks(freqs), []])
        rows = saliency.shape[0] if saliency is not None else freqs.size
        if rows:
            self.plot.setYRange(0, rows, padding=0)
        if times.size > 1:
            self.plot.setXRange(float(times[0]), float(times[-1]), padding=0.01)
        if saliency is None or times.size == 0:
            self.overlay.clear()
            return
        self.overlay.setImage(visible_map(saliency), autoLevels=False,
                              levels=(0.0, max(float(saliency.max()), 1e-6)))  # fmt: skip
        self.overlay.setRect(_frame_rect(times[: saliency.shape[1]], saliency.shape[0]))

    def set_cycles(self, cycles: list[dict[str, Any]], rows: int) -> None:
        """Breathing cycles: a strip above the spectrogram coloured by each cycle's finding,
        dashed boundaries, and the finding's name where the cycle is wide enough to hold it."""
        for item in self._cycle_items:
            self.plot.removeItem(item)
        self._cycle_items = []
        self.legend.setVisible(bool(cycles))
        if not cycles:
            return
        starts = np.array([float(c["start_s"]) for c in cycles])
        ends = np.array([float(c["end_s"]) for c in cycles])
        labels = [str(c.get("label", "")) for c in cycles]
        strip = pg.BarGraphItem(x0=starts, width=ends - starts, y0=rows + 0.4, height=STRIP_ROWS - 0.8,
                                brushes=[QColor(FINDING_COLOURS.get(lab, "#8d96a0")) for lab in labels],
                                pens=[pg.mkPen("#000000", width=1)] * len(cycles))  # fmt: skip
        self._add(strip)
        pen = pg.mkPen(QColor(200, 206, 214, 120), width=1, style=Qt.PenStyle.DashLine)
        total = max(float(ends.max() - starts.min()), 1e-6)
        for start, end, label in zip(starts, ends, labels, strict=True):
            self._add(pg.InfiniteLine(pos=start, angle=90, pen=pen))
            if (end - start) / total > 0.07:  # room for the word
                text = pg.TextItem(label, color="#101316", anchor=(0.5, 0.5))
                text.setPos((start + end) / 2, rows + STRIP_ROWS / 2)
                self._add(text)
        self.plot.setYRange(0, rows + STRIP_ROWS, padding=0)

    def _add(self, item: Any) -> None:
        self.plot.addItem(item)
        self._cycle_items.append(item)

    def set_colormap(self, name: str) -> None:
        self.overlay.setLookupTable(heatmap_lut(name))

    def set_opacity(self, opacity: float) -> None:
        self.overlay.setOpacity(float(opacity))

    def set_overlay_visible(self, visible: bool) -> None:
        self.overlay.setVisible(bool(visible))

"""Per-segment features: log-mel spectrogram, MFCC with deltas, LPC and its spectral envelope,
spectral descriptors; one CSV row per segment and arrays for plotting.

Array shapes (for the review view): ``log_mel_db`` (n_mels, frames), ``mfcc`` / ``mfcc_delta`` /
``mfcc_delta2`` (n_mfcc, frames), ``lpc`` (order + 1,), ``lpc_envelope_db`` (n_freqs,) over
``lpc_freqs_hz``, ``descriptors`` name -> (frames,). The CSV keeps means (and SD for MFCC).
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

N_MELS = 40
N_MFCC = 13
HOP_S = 0.010
WIN_S = 0.025
DESCRIPTORS = ("centroid_hz", "bandwidth_hz", "rolloff_hz", "flatness", "zcr", "rms")


@dataclass
class SegmentFeatures:
    start_s: float
    end_s: float
    label: str
    log_mel_db: np.ndarray = field(repr=False)
    mfcc: np.ndarray = field(repr=False)
    mfcc_delta: np.ndarray = field(repr=False)
    mfcc_delta2: np.ndarray = field(repr=False)
    lpc: np.ndarray = field(repr=False)
    lpc_freqs_hz: np.ndarray = field(repr=False)
    lpc_envelope_db: np.ndarray = field(repr=False)
    descriptors: dict[str, np.ndarray] = field(repr=False)

    def summary(self) -> dict[str, float | str]:
        """Flat row for CSV/JSON: means of each feature (and SD of the MFCCs)."""
        row: dict[str, float | str] = {"start_s": round(self.start_s, 4),
                                        "end_s": round(self.end_s, 4), "label": self.label}
        for i, v in enumerate(self.mfcc.mean(axis=1)):
            row[f"mfcc{i}_mean"] = float(v)
        for i, v in enumerate(self.mfcc.std(axis=1)):
            row[f"mfcc{i}_sd"] = float(v)
        for i, v in enumerate(self.mfcc_delta.mean(axis=1)):
            row[f"mfcc{i}_delta_mean"] = float(v)
        for i, v in enumerate(self.mfcc_delta2.mean(axis=1)):
            row[f"mfcc{i}_delta2_mean"] = float(v)
        for i, v in enumerate(self.lpc[1:], start=1):
            row[f"lpc{i}"] = float(v)
        for name, values in self.descriptors.items():
            row[f"{name}_mean"] = float(np.mean(values)) if values.size else math.nan
        return row


def lpc_envelope(coeffs: np.ndarray, rate_hz: float, gain: float = 1.0, n_freqs: int = 256):
    """Frequencies (Hz) and the LPC spectral envelope (dB) ``gain / |A(e^jw)|``."""
    from scipy.signal import freqz

    w, h = freqz([gain], coeffs, worN=n_freqs, fs=rate_hz)
    return w, 20.0 * np.log10(np.abs(h) + 1e-12)


class _WholeRecording:
    """Frame-wise features of the whole recording, computed once and sliced per segment."""

    def __init__(self, samples: np.ndarray, rate_hz: float) -> None:
        import librosa

        self.x = np.asarray(samples, dtype=np.float32)
        self.rate_hz = rate_hz
        self.n_fft = int(2 ** math.ceil(math.log2(WIN_S * rate_hz)))
        self.hop = max(int(HOP_S * rate_hz), 1)
        x = self.x if self.x.size >= self.n_fft else np.pad(self.x, (0, self.n_fft - self.x.size))
        power = np.abs(librosa.stft(x, n_fft=self.n_fft, hop_length=self.hop)) ** 2
        n_mels = min(N_MELS, self.n_fft // 4)
        mel = librosa.feature.melspectrogram(S=power, sr=rate_hz, n_mels=n_mels)
        self.log_mel = librosa.power_to_db(mel, ref=1.0, top_db=100.0)
        self.mfcc = librosa.feature.mfcc(S=self.log_mel, n_mfcc=N_MFCC)
        width = min(9, self.mfcc.shape[1] if self.mfcc.shape[1] % 2 else self.mfcc.shape[1] - 1)
        if width >= 3:
            self.delta = librosa.feature.delta(self.mfcc, width=width, order=1)
            self.delta2 = librosa.feature.delta(self.mfcc, width=width, order=2)
        else:
            self.delta = self.delta2 = np.zeros_like(self.mfcc)
        mag = np.sqrt(power)
        self.descriptors = {
            "centroid_hz": librosa.feature.spectral_centroid(S=mag, sr=rate_hz)[0],
            "bandwidth_hz": librosa.feature.spectral_bandwidth(S=mag, sr=rate_hz)[0],
            "rolloff_hz": librosa.feature.spectral_rolloff(S=mag, sr=rate_hz)[0],
            "flatness": librosa.feature.spectral_flatness(S=mag)[0],
            "zcr": librosa.feature.zero_crossing_rate(x, frame_length=self.n_fft,
                                                      hop_length=self.hop)[0],
            "rms": librosa.feature.rms(S=mag, frame_length=self.n_fft)[0],
        }

    def frames(self, start_s: float, end_s: float) -> slice:
        n = self.mfcc.shape[1]
        a = min(int(round(start_s * self.rate_hz / self.hop)), n - 1)
        b = min(max(int(round(end_s * self.rate_hz / self.hop)) + 1, a + 1), n)
        return slice(a, b)


def _lpc(seg: np.ndarray, order: int) -> tuple[np.ndarray, float]:
    import librosa

    centred = seg.astype(np.float64) - float(np.mean(seg)) if seg.size else seg.astype(float)
    if centred.size > order + 1 and np.any(centred):
        coeffs = librosa.lpc(centred, order=order)
        residual = np.convolve(centred, coeffs)[: centred.size]
        return coeffs, float(np.sqrt(np.mean(residual**2)))
    return np.concatenate(([1.0], np.zeros(order))), 0.0


def _segment(whole: _WholeRecording, start_s: float, end_s: float, label: str,
             lpc_order: int | None) -> SegmentFeatures:
    cols = whole.frames(start_s, end_s)
    rate = whole.rate_hz
    seg = whole.x[int(start_s * rate) : max(int(end_s * rate), int(start_s * rate) + 1)]
    coeffs, gain = _lpc(seg, lpc_order or int(2 + rate / 1000))  # rule of thumb: 2 + fs in kHz
    freqs, envelope = lpc_envelope(coeffs, rate, gain or 1e-12)
    return SegmentFeatures(
        start_s, end_s, label, whole.log_mel[:, cols], whole.mfcc[:, cols], whole.delta[:, cols],
        whole.delta2[:, cols], coeffs, freqs, envelope,
        {k: v[cols] for k, v in whole.descriptors.items()},
    )


def segment_features(samples: np.ndarray, rate_hz: float, start_s: float, end_s: float,
                     label: str = "", lpc_order: int | None = None) -> SegmentFeatures:
    """Features of ``samples[start_s:end_s]`` (mono, any rate)."""
    return _segment(_WholeRecording(samples, rate_hz), start_s, end_s, label, lpc_order)


def features_for_segments(samples: np.ndarray, rate_hz: float,
                          segments: list[tuple[float, float, str]]) -> list[SegmentFeatures]:
    """Features of every segment; frame-wise features come from one pass over the recording."""
    segments = [s for s in segments if s[1] > s[0]]
    if not segments:
        return []
    whole = _WholeRecording(samples, rate_hz)
    return [_segment(whole, s, e, lab, None) for s, e, lab in segments]


def write_features_csv(rows: list[dict], path: str | Path) -> Path:
    """Write one row per segment (the ``summary()`` dicts) to a CSV file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields: list[str] = ["start_s", "end_s", "label"]  # the header even when no segment was found
    for row in rows:
        fields += [k for k in row if k not in fields]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path

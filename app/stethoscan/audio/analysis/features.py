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


def segment_features(samples: np.ndarray, rate_hz: float, start_s: float, end_s: float,
                     label: str = "", lpc_order: int | None = None) -> SegmentFeatures:
    """Features of ``samples[start_s:end_s]`` (mono, any rate)."""
    import librosa

    x = np.asarray(samples, dtype=np.float32)
    seg = x[int(start_s * rate_hz) : max(int(end_s * rate_hz), int(start_s * rate_hz) + 1)]
    n_fft = int(2 ** math.ceil(math.log2(WIN_S * rate_hz)))
    hop = max(int(HOP_S * rate_hz), 1)
    min_len = n_fft
    if seg.size < min_len:
        seg = np.pad(seg, (0, min_len - seg.size))
    power = np.abs(librosa.stft(seg, n_fft=n_fft, hop_length=hop, center=True)) ** 2
    n_mels = min(N_MELS, n_fft // 4)
    mel = librosa.feature.melspectrogram(S=power, sr=rate_hz, n_mels=n_mels)
    log_mel = librosa.power_to_db(mel, ref=1.0, top_db=100.0)
    mfcc = librosa.feature.mfcc(S=log_mel, n_mfcc=N_MFCC)
    width = min(9, mfcc.shape[1] if mfcc.shape[1] % 2 else mfcc.shape[1] - 1)
    if width >= 3:
        delta = librosa.feature.delta(mfcc, width=width, order=1)
        delta2 = librosa.feature.delta(mfcc, width=width, order=2)
    else:
        delta = delta2 = np.zeros_like(mfcc)
    order = lpc_order or int(2 + rate_hz / 1000)  # rule of thumb: 2 + fs in kHz
    centred = seg.astype(np.float64) - float(np.mean(seg))
    if np.any(centred) and centred.size > order + 1:
        coeffs = librosa.lpc(centred, order=order)
        residual = np.convolve(centred, coeffs)[: centred.size]
        gain = float(np.sqrt(np.mean(residual**2)))
    else:
        coeffs, gain = np.concatenate(([1.0], np.zeros(order))), 0.0
    freqs, envelope = lpc_envelope(coeffs, rate_hz, gain or 1e-12)
    mag = np.sqrt(power)
    descriptors = {
        "centroid_hz": librosa.feature.spectral_centroid(S=mag, sr=rate_hz)[0],
        "bandwidth_hz": librosa.feature.spectral_bandwidth(S=mag, sr=rate_hz)[0],
        "rolloff_hz": librosa.feature.spectral_rolloff(S=mag, sr=rate_hz)[0],
        "flatness": librosa.feature.spectral_flatness(S=mag)[0],
        "zcr": librosa.feature.zero_crossing_rate(seg, frame_length=n_fft, hop_length=hop)[0],
        "rms": librosa.feature.rms(S=mag, frame_length=n_fft)[0],
    }
    return SegmentFeatures(start_s, end_s, label, log_mel, mfcc, delta, delta2, coeffs, freqs,
                           envelope, descriptors)


def features_for_segments(samples: np.ndarray, rate_hz: float,
                          segments: list[tuple[float, float, str]]) -> list[SegmentFeatures]:
    """Features of every segment (segments shorter than one window are padded)."""
    return [segment_features(samples, rate_hz, s, e, lab) for s, e, lab in segments if e > s]


def write_features_csv(rows: list[dict], path: str | Path) -> Path:
    """Write one row per segment (the ``summary()`` dicts) to a CSV file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fields: list[str] = []
    for row in rows:
        fields += [k for k in row if k not in fields]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=fields)
        writer.writeheader()
        writer.writerows(rows)
    return path

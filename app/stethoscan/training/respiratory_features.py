"""What the respiratory model sees: one breathing cycle as a fixed-size, normalised log-mel patch.

Used identically by training (``icbhi_dataset``) and by prediction (``workflows``); torch-free.

A cycle is resampled to 4 kHz (the band 50-2000 Hz holds wheezes and crackles), cut from the
recording, repeated end-to-end when shorter than the segment (3 s) and split into overlapping
windows when longer. Each window becomes a log-mel spectrogram (48 bands, 40 ms window, 20 ms
hop), from which each band's 20th percentile over time is subtracted (removes the stethoscope's
and the room's stationary colouring while keeping sounds that come and go), divided by the
patch's standard deviation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

MODEL_RATE_HZ = 4000
SEGMENT_S = 3.0
FEATURE_PARAMS = {
    "n_mels": 48,
    "n_fft": 256,
    "win_length": 160,
    "hop_length": 80,
    "fmin": 50.0,
    "fmax": 2000.0,
    "floor_percentile": 20.0,
}
WINDOW_OVERLAP = 0.5  # long cycles: windows overlap by half a segment
# Saliency settings, the same in the sanity checks at training time and in prediction:
# occlusion windows of 6 mel bands x 200 ms; Integrated Gradients with 16 steps.
SALIENCY_OPTIONS = {
    "ig": {"n_steps": 16, "internal_batch_size": 16},
    "occlusion": {"window": (6, 10), "stride": (6, 5), "perturbations_per_eval": 64},
}


@dataclass(frozen=True)
class PatchSpec:
    """Sample rate (Hz), segment length (s) and log-mel parameters of the model's input."""

    rate_hz: int = MODEL_RATE_HZ
    segment_s: float = SEGMENT_S
    n_mels: int = 48
    n_fft: int = 256
    win_length: int = 160
    hop_length: int = 80
    fmin: float = 50.0
    fmax: float = 2000.0
    floor_percentile: float = 20.0

    @classmethod
    def from_manifest(cls, audio_input) -> PatchSpec:
        """From a manifest's ``[input.audio]`` section (``AudioInput``)."""
        params = dict(audio_input.feature_params)
        return cls(rate_hz=int(audio_input.sample_rate_hz), segment_s=float(audio_input.segment_s),
                   **{k: params[k] for k in FEATURE_PARAMS if k in params})  # fmt: skip

    @property
    def feature_params(self) -> dict:
        return {k: getattr(self, k) for k in FEATURE_PARAMS}

    @property
    def segment_samples(self) -> int:
        return int(round(self.segment_s * self.rate_hz))

    @property
    def frames(self) -> int:
        return self.segment_samples // self.hop_length

    @property
    def shape(self) -> tuple[int, int]:
        return (self.n_mels, self.frames)

    def mel_frequencies_hz(self) -> np.ndarray:
        """Centre frequency (Hz) of each mel band."""
        import librosa

        return librosa.mel_frequencies(self.n_mels + 2, fmin=self.fmin, fmax=self.fmax)[1:-1]

    def frame_times_s(self, frames: int | None = None) -> np.ndarray:
        """Centre time (s) of each frame from the patch start."""
        count = self.frames if frames is None else frames
        return np.arange(count) * self.hop_length / self.rate_hz


def to_model_rate(samples: np.ndarray, rate_hz: int, spec: PatchSpec) -> np.ndarray:
    """Mono float32 resampled (polyphase) to the model's rate."""
    from scipy.signal import resample_poly

    x = np.asarray(samples, dtype=np.float32)
    if int(rate_hz) == spec.rate_hz:
        return x
    g = math.gcd(int(rate_hz), spec.rate_hz)
    return resample_poly(x, spec.rate_hz // g, int(rate_hz) // g).astype(np.float32)


@lru_cache(maxsize=8)
def _mel_basis(spec: PatchSpec) -> np.ndarray:
    import librosa

    return librosa.filters.mel(sr=spec.rate_hz, n_fft=spec.n_fft, n_mels=spec.n_mels,
                               fmin=spec.fmin, fmax=spec.fmax).astype(np.float32)  # fmt: skip


@lru_cache(maxsize=8)
def _window(n_fft: int, win_length: int) -> np.ndarray:
    from scipy.signal import get_window

    window = np.zeros(n_fft, dtype=np.float32)
    left = (n_fft - win_length) // 2
    window[left : left + win_length] = get_window("hann", win_length, fftbins=True)
    return window


def power_spectrogram(samples: np.ndarray, spec: PatchSpec) -> np.ndarray:
    """|STFT|^2, shape (n_fft // 2 + 1, frames); frames centred on multiples of the hop."""
    x = np.asarray(samples, dtype=np.float32)
    pad = spec.n_fft // 2
    x = np.pad(x, pad, mode="reflect" if x.size > pad else "constant")
    if x.size < spec.n_fft:
        x = np.pad(x, (0, spec.n_fft - x.size))
    frames = np.lib.stride_tricks.sliding_window_view(x, spec.n_fft)[:: spec.hop_length]
    spectrum = np.fft.rfft(frames * _window(spec.n_fft, spec.win_length), axis=1)
    return (spectrum.real**2 + spectrum.imag**2).T.astype(np.float32)


def log_mel_db(samples: np.ndarray, spec: PatchSpec) -> np.ndarray:
    """Log-mel power (dB re 1), shape (n_mels, frames), of samples at the model rate."""
    mel = _mel_basis(spec) @ power_spectrogram(samples, spec)
    return 10.0 * np.log10(np.maximum(mel, 1e-10))


def normalise_patch(log_mel: np.ndarray, spec: PatchSpec) -> np.ndarray:
    """Subtract each band's low percentile over time, divide by the patch's SD (float32)."""
    floor = np.percentile(log_mel, spec.floor_percentile, axis=1, keepdims=True)
    x = log_mel - floor
    return (x / max(float(x.std()), 1e-3)).astype(np.float32)


def window_starts(n_samples: int, spec: PatchSpec) -> list[int]:
    """Start sample of each window covering a cycle of ``n_samples`` (one if it fits)."""
    size = spec.segment_samples
    if n_samples <= size:
        return [0]
    step = max(int(size * (1.0 - WINDOW_OVERLAP)), 1)
    starts = list(range(0, n_samples - size + 1, step))
    if starts[-1] + size < n_samples:
        starts.append(n_samples - size)
    return starts


def fit_to_segment(cycle: np.ndarray, spec: PatchSpec) -> np.ndarray:
    """Repeat a short cycle end-to-end (or crop) to exactly one segment."""
    size = spec.segment_samples
    if cycle.size == 0:
        return np.zeros(size, dtype=np.float32)
    reps = int(math.ceil(size / cycle.size))
    return np.tile(cycle, reps)[:size]


def patch_from_audio(window: np.ndarray, spec: PatchSpec) -> np.ndarray:
    """One segment of audio at the model rate -> normalised patch (n_mels, frames)."""
    mel = log_mel_db(fit_to_segment(window, spec), spec)
    return normalise_patch(mel[:, : spec.frames], spec)


@dataclass
class CyclePatches:
    """The patches of one cycle and where each window starts in the cycle (s)."""

    patches: np.ndarray  # (windows, n_mels, frames) float32
    offsets_s: list[float]
    cycle_duration_s: float


def cycle_patches(samples: np.ndarray, start_s: float, end_s: float, spec: PatchSpec) -> CyclePatches:
    """Patches of the cycle [start_s, end_s) of ``samples`` (mono, at the model rate)."""
    a = max(int(round(start_s * spec.rate_hz)), 0)
    b = min(int(round(end_s * spec.rate_hz)), samples.size)
    cycle = samples[a:max(b, a + 1)]
    starts = window_starts(cycle.size, spec)
    size = spec.segment_samples
    patches = np.stack([patch_from_audio(cycle[s : s + size], spec) for s in starts])
    return CyclePatches(patches, [s / spec.rate_hz for s in starts], cycle.size / spec.rate_hz)


def combine_window_probabilities(probs: np.ndarray) -> np.ndarray:
    """Probabilities (normal, crackle, wheeze, both) of a cycle from those of its windows.

    One window: unchanged. Several: crackles (wheezes) are present in the cycle when present in
    any window, so P(crackle present) = max over windows of P(crackle) + P(both), likewise for
    wheezes, and the four classes follow assuming the two are independent.
    """
    probs = np.asarray(probs, dtype=np.float64)
    if probs.shape[0] == 1:
        return probs[0]
    crackle = float(np.max(probs[:, 1] + probs[:, 3]))
    wheeze = float(np.max(probs[:, 2] + probs[:, 3]))
    return np.array([(1 - crackle) * (1 - wheeze), crackle * (1 - wheeze),
                     (1 - crackle) * wheeze, crackle * wheeze])  # fmt: skip


CRACKLE_TRAIN_GAP_S = 0.3


def evidence_boxes(events) -> list:
    """The evidence regions of a cycle: each wheeze, and each train of crackles (crackles less
    than 0.3 s apart form one region spanning the first to the last, as a listener would say
    "crackles at 1.2-1.6 s")."""
    from types import SimpleNamespace

    boxes = [e for e in events if e.kind == "wheeze"]
    crackles = sorted((e for e in events if e.kind != "wheeze"), key=lambda e: e.start_s)
    train: list = []
    for event in [*crackles, None]:
        if train and (event is None or event.start_s - train[-1].end_s > CRACKLE_TRAIN_GAP_S):
            boxes.append(SimpleNamespace(kind="crackles", start_s=train[0].start_s,
                                         end_s=max(e.end_s for e in train),
                                         low_hz=min(e.low_hz for e in train),
                                         high_hz=max(e.high_hz for e in train)))  # fmt: skip
            train = []
        if event is not None:
            train.append(event)
    return boxes


def event_mask(events, offset_s: float, cycle_duration_s: float, spec: PatchSpec) -> np.ndarray:
    """Boolean (n_mels, frames) mask of the evidence boxes on the patch of a window at ``offset_s``.

    ``events`` have ``start_s``, ``end_s`` (relative to the cycle start), ``low_hz``, ``high_hz``.
    Short cycles are repeated to fill the segment, so each repetition's box is marked.
    """
    mask = np.zeros(spec.shape, dtype=bool)
    centres = spec.mel_frequencies_hz()
    times = spec.frame_times_s()
    reps = int(math.ceil(spec.segment_s / max(cycle_duration_s, 1e-3))) if offset_s == 0 else 1
    for event in evidence_boxes(events):
        rows = (centres >= event.low_hz) & (centres <= event.high_hz)
        if not rows.any():
            rows[int(np.argmin(np.abs(centres - 0.5 * (event.low_hz + event.high_hz))))] = True
        for k in range(reps):
            t0 = event.start_s - offset_s + k * cycle_duration_s
            t1 = event.end_s - offset_s + k * cycle_duration_s
            cols = (times >= t0 - 0.5 * spec.hop_length / spec.rate_hz) & (times <= t1)
            mask[np.ix_(rows, cols)] = True
    return mask


# --- classical features (the baseline beside the CNN) ------------------------------------------
N_MFCC = 13
LPC_ORDER = 6  # rule of thumb 2 + rate in kHz at 4 kHz


def _stats(name: str, values: np.ndarray) -> dict[str, float]:
    return {f"{name}_mean": float(np.mean(values)), f"{name}_sd": float(np.std(values))}


def classical_features(cycle: np.ndarray, spec: PatchSpec) -> dict[str, float]:
    """MFCC (+delta), LPC and spectral descriptors of one cycle at the model rate.

    Per frame: MFCC 1-13 (DCT of the log-mel), spectral centroid, bandwidth, 85% roll-off,
    flatness and peakiness (max/mean power, high for tonal wheezes), RMS; summarised by mean and
    SD over the cycle. Per cycle: LPC coefficients (order 6), zero-crossing rate and the kurtosis
    of the 200 Hz high-passed waveform (high for crackle transients).
    """
    import librosa
    from scipy.fft import dct
    from scipy.signal import butter, sosfiltfilt
    from scipy.stats import kurtosis

    x = np.asarray(cycle, dtype=np.float32)
    if x.size < spec.n_fft:
        x = np.pad(x, (0, spec.n_fft - x.size))
    power = power_spectrogram(x, spec)
    log_mel = 10.0 * np.log10(np.maximum(_mel_basis(spec) @ power, 1e-10))
    mfcc = dct(log_mel, type=2, axis=0, norm="ortho")[:N_MFCC]
    freqs = np.fft.rfftfreq(spec.n_fft, 1.0 / spec.rate_hz)
    band = (freqs >= spec.fmin) & (freqs <= spec.fmax)
    p = power[band] + 1e-12
    f = freqs[band][:, None]
    total = p.sum(axis=0)
    centroid = (f * p).sum(axis=0) / total
    bandwidth = np.sqrt(((f - centroid) ** 2 * p).sum(axis=0) / total)
    rolloff = f[np.argmax(np.cumsum(p, axis=0) >= 0.85 * total, axis=0), 0]
    flatness = np.exp(np.mean(np.log(p), axis=0)) / np.mean(p, axis=0)
    peakiness = 10.0 * np.log10(p.max(axis=0) / p.mean(axis=0))
    rms_db = 10.0 * np.log10(total)
    row: dict[str, float] = {}
    for i in range(N_MFCC):
        row.update(_stats(f"mfcc{i + 1}", mfcc[i]))
        row[f"mfcc{i + 1}_delta_abs_mean"] = float(np.mean(np.abs(np.diff(mfcc[i])))) if mfcc.shape[1] > 1 else 0.0
    for name, values in (("centroid_hz", centroid), ("bandwidth_hz", bandwidth), ("rolloff_hz", rolloff),
                         ("flatness", flatness), ("peakiness_db", peakiness), ("rms_db", rms_db)):  # fmt: skip
        row.update(_stats(name, values))
    row["peakiness_db_max"] = float(peakiness.max())
    centred = x.astype(np.float64) - float(np.mean(x))
    lpc = librosa.lpc(centred, order=LPC_ORDER) if np.any(centred) else np.zeros(LPC_ORDER + 1)
    row.update({f"lpc{i}": float(v) for i, v in enumerate(lpc[1:], start=1)})
    row["zcr"] = float(np.mean(np.abs(np.diff(np.signbit(x).astype(np.int8)))))
    high = sosfiltfilt(butter(4, 200.0, btype="highpass", fs=spec.rate_hz, output="sos"), centred) \
        if centred.size > 30 else centred
    row["kurtosis_hp200"] = float(kurtosis(high)) if np.std(high) > 0 else 0.0
    return {k: (v if np.isfinite(v) else 0.0) for k, v in row.items()}

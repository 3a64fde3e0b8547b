"""Pipeline ``generic_audio``: a recording -> fixed-length segments -> features -> a Prediction.

The recording is mixed to mono, resampled to the model's rate and cut into ``segment_s``
segments (hop ``segment_s / 2``; the last one padded with silence). The result averages the
segments' calibrated probabilities; the saliency map (``options["saliency"]``) is computed on
the segment where the top label is most probable, with its time axis in seconds from the
start of the recording and its frequency axis in Hz. Options: ``clip`` (an
:class:`AudioClip` already in memory), ``saliency``, ``saliency_options``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import InputMismatchError
from stethoscan.core.task import Task
from stethoscan.workflows.model_input_checks import check_recording

_LIBROSA_KEYS = ("n_mels", "n_fft", "hop_length", "fmin", "fmax", "win_length", "n_mfcc")


def _read_clip(input_path: str | Path | None, options: dict[str, Any]):
    if options.get("clip") is not None:
        return options["clip"]
    if input_path is None:
        raise InputMismatchError("Choose a recording (an audio file) for this model.")
    from stethoscan.audio.audio_files import read_audio

    return read_audio(input_path)


def segment_starts(n_samples: int, segment: int) -> list[int]:
    """Start samples of overlapping segments (hop = half a segment) covering the recording."""
    if n_samples <= segment:
        return [0]
    hop = max(segment // 2, 1)
    starts = list(range(0, n_samples - segment + 1, hop))
    if starts[-1] + segment < n_samples:
        starts.append(starts[-1] + hop)
    return starts


def log_mel_features(samples: np.ndarray, rate_hz: int, params: dict[str, Any]) -> np.ndarray:
    """Log-mel spectrogram in dB (bins x frames); ``normalize="zscore"`` (default) per segment."""
    import librosa

    kwargs = {k: params[k] for k in _LIBROSA_KEYS if k in params and k != "n_mfcc"}
    mel = librosa.feature.melspectrogram(y=samples, sr=rate_hz, power=2.0, **kwargs)
    db = librosa.power_to_db(mel, ref=1.0, top_db=None).astype(np.float32)
    if params.get("normalize", "zscore") == "zscore":
        db = (db - db.mean()) / max(float(db.std()), 1e-6)
    return db


def feature_axes(n_frames: int, rate_hz: int, params: dict[str, Any], start_s: float) -> dict:
    """Time (s, frame centres from ``start_s``) and frequency (Hz, mel centres) axes."""
    import librosa

    hop = int(params.get("hop_length", 512))
    n_mels = int(params.get("n_mels", 128))
    fmax = float(params.get("fmax", rate_hz / 2))
    times = start_s + np.arange(n_frames) * hop / rate_hz
    freqs = librosa.mel_frequencies(n_mels=n_mels, fmin=float(params.get("fmin", 0.0)), fmax=fmax)
    return {"times_s": times.tolist(), "frequencies_hz": freqs.tolist()}


def run(model: Any, input_path: str | Path | None, options: dict[str, Any], task: Task):
    """Predict on a recording; see the module docstring."""
    from stethoscan.audio.analysis.preprocessing import resample
    from stethoscan.inference.prediction import Prediction

    manifest = model.manifest
    spec = manifest.input.audio
    if spec is None:
        raise InputMismatchError(f"{manifest.model.name} does not take a recording as input.")
    if spec.feature != "log_mel":
        raise InputMismatchError(f"The feature {spec.feature!r} is not known to this version.")
    task.progress(0.05, "reading the recording")
    clip = _read_clip(input_path, options)
    params = dict(spec.feature_params)
    warnings = check_recording(clip.duration_s, clip.rate_hz, spec.min_duration_s,
                               spec.min_sample_rate_hz, spec.sample_rate_hz, params.get("fmax"))  # fmt: skip
    samples = resample(clip.mono(), clip.rate_hz, spec.sample_rate_hz)
    segment = int(round(spec.segment_s * spec.sample_rate_hz))
    starts = segment_starts(samples.size, segment)
    features = []
    for number, start in enumerate(starts):
        task.check_cancelled()
        piece = np.zeros(segment, dtype=np.float32)
        chunk = samples[start : start + segment]
        piece[: chunk.size] = chunk
        features.append(log_mel_features(piece, spec.sample_rate_hz, params))
        task.progress(0.1 + 0.5 * (number + 1) / len(starts), "computing features")
    batch = np.stack(features)[:, None]
    task.progress(0.65, "running the model")
    per_segment = model.predict_proba({"spectrogram": batch})
    probabilities = per_segment.mean(axis=0)
    top = int(np.argmax(probabilities))
    best = int(np.argmax(per_segment[:, top]))
    best_start_s = starts[best] / spec.sample_rate_hz
    details = {
        "segments": [
            {"start_s": s / spec.sample_rate_hz, "probabilities": p.tolist()}
            for s, p in zip(starts, per_segment, strict=True)
        ],
        "segment_s": spec.segment_s,
        "aggregation": "mean of segment probabilities",
    }
    extra = _saliency(model, batch[best : best + 1], options, top, best_start_s, params, spec, task)
    if extra:
        extra["underlay"] = batch[best, 0]
    task.progress(1.0, "done")
    return Prediction.from_probabilities(
        manifest, probabilities, warnings=warnings, inputs_used=["audio"], details=details, **extra
    )


def _saliency(model, spectrogram, options, target, start_s, params, spec, task) -> dict[str, Any]:
    method = options.get("saliency")
    if not method:
        return {}
    from stethoscan.inference.saliency.compute import compute_saliency
    from stethoscan.inference.saliency.regions import describe_regions

    task.progress(0.75, "computing the saliency map")
    saliency = compute_saliency(model, {"spectrogram": spectrogram}, method, target,
                                options=options.get("saliency_options"))  # fmt: skip
    axes = feature_axes(saliency.shape[-1], spec.sample_rate_hz, params, start_s)
    return {
        "saliency": saliency.astype(np.float32),
        "saliency_space": "spectrogram",
        "saliency_method": method,
        "saliency_regions": describe_regions(saliency, "spectrogram", axes),
        "saliency_axes": axes,
    }

"""From a recording to what the review view shows: ``analyze_recording(clip, task_kind, task)``.

The result (:class:`AnalysisResult`) holds plain data for the GUI:

- ``preprocessing``: list of dicts (step, parameters, rates); ``preprocessed`` keeps the
  before/after arrays of every step for listening (``preprocessed.steps[i].before/after``).
- ``segments``: list of ``(start_s, end_s, label)``; labels ``cycle``, ``inspiration``,
  ``expiration`` (breath), ``voiced``, ``unvoiced``, ``pause`` (voice), ``cough`` (cough).
- ``breathing_rate_bpm``, ``ie_ratio``, ``cough_count``: numbers or None.
- ``voice_report``: dict (see ``voice_report.VoiceReport``) or None.
- ``features``: one flat dict per segment (CSV row); ``segment_features`` keeps the arrays
  (log-mel, MFCC, LPC envelope, descriptors) for plots.
- ``model_results``: list of dicts, filled by the respiratory model workflow (empty here).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from stethoscan.audio.analysis.breath_rate_stability import (
    perturbed_rates,
    rate_range,
    unstable_note,
)
from stethoscan.audio.analysis.cough_detection import detect_coughs
from stethoscan.audio.analysis.features import SegmentFeatures, features_for_segments
from stethoscan.audio.analysis.preprocessing import Preprocessed, preprocess
from stethoscan.audio.analysis.quiet_edges import segment_sounding_breaths, sounding_span_s
from stethoscan.audio.analysis.voice_report import voice_report
from stethoscan.audio.clip import AudioClip
from stethoscan.core.errors import AudioError

TASK_KINDS = ("breath", "voice", "cough")
MAX_FEATURE_SEGMENTS = 200


@dataclass
class AnalysisResult:
    task_kind: str
    duration_s: float
    rate_hz: int
    preprocessing: list[dict] = field(default_factory=list)
    segments: list[tuple[float, float, str]] = field(default_factory=list)
    breathing_rate_bpm: float | None = None
    breathing_rate_range_bpm: tuple[float, float] | None = None  # over inaudibly perturbed copies
    ie_ratio: float | None = None
    cough_count: int | None = None
    voice_report: dict | None = None
    features: list[dict] = field(default_factory=list)
    model_results: list[dict] = field(default_factory=list)  # filled by the respiratory workflow
    model_applicability: dict | None = None  # is the recording like the model's training sounds?
    notes: list[str] = field(default_factory=list)
    preprocessed: Preprocessed | None = field(default=None, repr=False)
    segment_features: list[SegmentFeatures] = field(default_factory=list, repr=False)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (no arrays; NaN becomes None)."""
        keys = ("task_kind", "duration_s", "rate_hz", "preprocessing", "segments",
                "breathing_rate_bpm", "breathing_rate_range_bpm", "ie_ratio", "cough_count", "voice_report", "features",
                "model_results", "model_applicability", "notes")
        return _clean({k: getattr(self, k) for k in keys})

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def _clean(value: Any) -> Any:
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_clean(v) for v in value]
    if isinstance(value, np.ndarray):
        return _clean(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def _finite(value: float) -> float | None:
    return float(value) if value is not None and math.isfinite(value) else None


def _progress(task, fraction: float, message: str) -> None:
    if task is not None:
        task.check_cancelled()
        task.progress(fraction, message)


def analyze_recording(clip: AudioClip, task_kind: str, task=None,
                      voice_kind: str | None = None) -> AnalysisResult:
    """Run preprocessing, segmentation, measures and features for a breath, voice or cough take.

    ``task`` is the progress/cancel protocol of ``core.task`` (or None). ``voice_kind``
    ("sustained" or "speech") says which norms apply to a voice take; None guesses it (one long
    voiced stretch = sustained vowel).
    """
    if task_kind not in TASK_KINDS:
        raise AudioError(f"Unknown recording task '{task_kind}': use breath, voice or cough.")
    mono = clip.mono()
    if clip.frames == 0 or not np.any(mono):
        raise AudioError("The recording is silent or empty: check the microphone and record again.")
    require_audible(mono)
    result = AnalysisResult(task_kind, clip.duration_s, int(clip.rate_hz))
    result.notes.extend(getattr(clip, "warnings", []) or [])  # e.g. a file cut short
    _progress(task, 0.05, "Preprocessing")
    pre = preprocess(mono, clip.rate_hz, task_kind, denoise=task_kind != "cough")
    result.preprocessed = pre
    result.preprocessing = pre.summary()
    _progress(task, 0.35, "Segmenting")
    feature_source, feature_rate = pre.samples, pre.rate_hz
    if task_kind == "breath":
        span_s = sounding_span_s(mono, clip.rate_hz)
        seg, quiet_s = segment_sounding_breaths(pre.samples, pre.rate_hz, span_s)
        result.segments = seg.segments
        result.breathing_rate_bpm = _finite(seg.rate_bpm)
        result.ie_ratio = _finite(seg.ie_ratio)
        result.notes.append(
            "Inspiration/expiration labels use the chest-wall heuristic (inspiration louder); "
            "they can be swapped over the trachea or with loud expiratory sounds. The rate is "
            "counted from sound loudness: where loud and quiet breaths alternate it can be half "
            "the true rate, so check the cycles against the patient and correct the markers."
        )
        if result.breathing_rate_bpm is None:
            result.notes.append(_no_rate_note(seg))
        else:
            result.breathing_rate_range_bpm = _rate_range(pre, span_s, result.breathing_rate_bpm)
            note = unstable_note(result.breathing_rate_range_bpm)
            if note:
                result.notes.append(note)
        left_out = [f"{q:.1f} s at the {where}" for q, where in zip(quiet_s, ("start", "end"),
                                                                    strict=True) if q > 0.0]
        if left_out:
            result.notes.append(f"Near-silent stretches were left out of the breathing analysis "
                                f"({' and '.join(left_out)}): no breath sound was recorded there.")
        feature_segments = [(s, e, "cycle") for s, e in seg.cycles]
    elif task_kind == "cough":
        coughs = detect_coughs(pre.samples, pre.rate_hz)
        result.segments = coughs.segments
        result.cough_count = coughs.count
        if coughs.rejected or not coughs.count:
            result.notes.append(_cough_note(coughs))
        feature_segments = coughs.segments
    else:
        # Praat-compatible measures need the samples as recorded, not resampled or filtered.
        if voice_kind is None:
            voice_kind = "sustained" if _looks_sustained(mono, clip.rate_hz) else "speech"
        report = voice_report(mono.astype(np.float64), clip.rate_hz, kind=voice_kind)
        result.voice_report = report.as_dict()
        result.segments = list(report.segments)
        feature_source, feature_rate = mono, int(clip.rate_hz)
        feature_segments = [s for s in report.segments if s[2] == "voiced"]
    _progress(task, 0.7, "Computing features")
    feats = features_for_segments(feature_source, feature_rate, feature_segments[:MAX_FEATURE_SEGMENTS])
    result.segment_features = feats
    result.features = [f.summary() for f in feats]
    _progress(task, 1.0, "Done")
    return result


def _rate_range(pre, span_s: tuple[float, float], base_bpm: float) -> tuple[float, float] | None:
    """The rate's range over faintly perturbed copies of the preprocessed take
    (``breath_rate_stability``), each segmented as the take was."""

    def rate_of(samples: np.ndarray) -> float:
        return segment_sounding_breaths(samples, pre.rate_hz, span_s)[0].rate_bpm

    return rate_range(base_bpm, perturbed_rates(pre.samples, rate_of))


def require_audible(mono: np.ndarray) -> None:
    """Raise AudioError for a take whose loudest sample stays below ``SILENT_PEAK_DBFS``: it holds
    only the converter's noise (an unplugged stethoscope or a muted input), in which segmentation
    and the model would find breaths, crackles and wheezes that are not there. Model workflows
    that read a recording themselves call it too."""
    from stethoscan.audio.level_metering import peak_dbfs
    from stethoscan.audio.signal_quality import SILENT_PEAK_DBFS

    peak = peak_dbfs(mono)
    if peak < SILENT_PEAK_DBFS:
        raise AudioError(
            f"The recording holds no usable sound: its loudest moment is {peak:.1f} dBFS, below "
            f"{SILENT_PEAK_DBFS:.0f} dBFS, no more than a recorder's own noise. Check that the "
            "stethoscope or microphone is plugged in, switched on and not muted, then record again."
        )


def _no_rate_note(seg) -> str:
    """Why no breathing rate is given, and what to do."""
    from stethoscan.audio.analysis.breath_segmentation import MIN_ENVELOPE_RANGE_DB

    if np.isfinite(seg.envelope_range_db) and seg.envelope_range_db < MIN_ENVELOPE_RANGE_DB:
        return (f"No breathing rate: the breath sound hardly changes ({seg.envelope_range_db:.1f} dB "
                "between loud and quiet stretches), as with steady noise or a tone. Place the "
                "stethoscope on the chest wall, ask for deeper breaths and record again.")
    return ("No breathing rate: fewer than two whole breathing cycles were found. Record at least "
            "20 s of breathing, or mark the inspirations yourself.")


def _cough_note(coughs) -> str:
    """What the cough detector left out and why (and what to do when it found none)."""
    from collections import Counter

    reasons = Counter(reason for _, _, reason in coughs.rejected)
    why = ", ".join(f"{n} {reason}" for reason, n in reasons.most_common())
    left_out = (f"{sum(reasons.values())} {'other ' if coughs.count else ''}sound(s) were not "
                f"counted as coughs ({why}; a cough lasts 0.15-0.8 s, starts explosively and is "
                "broadband)") if reasons else ""
    if coughs.count:
        return left_out[:1].upper() + left_out[1:] + "."
    return ("No coughs were found" + (f": {left_out}" if left_out else " (no sound stood out from "
            "the background)") + ". Ask for 3-5 single, forceful coughs with a pause between them "
            "and record again, or mark the coughs yourself.")


MIN_SUSTAINED_S = 1.0  # a sustained-vowel task asks for 3-6 s; a spoken word lasts < 1 s


def _looks_sustained(mono: np.ndarray, rate_hz: float) -> bool:
    """A sustained vowel is one long voiced stretch (at least MIN_SUSTAINED_S); speech
    alternates (decided by pauses), and a single word is speech too."""
    from stethoscan.audio.analysis.speech_segmentation import intensity_db

    times, level = intensity_db(mono, rate_hz)
    loud = level > np.percentile(level, 99) - 25.0
    changes = int(np.count_nonzero(np.diff(loud.astype(int))))
    step_s = float(times[1] - times[0]) if len(times) > 1 else 0.0
    return changes <= 4 and float(np.mean(loud)) > 0.6 and _longest_run(loud) * step_s >= MIN_SUSTAINED_S


def _longest_run(mask: np.ndarray) -> int:
    """Length of the longest run of True in ``mask``."""
    padded = np.concatenate([[0], mask.astype(np.int8), [0]])
    edges = np.flatnonzero(np.diff(padded))
    return int((edges[1::2] - edges[::2]).max()) if edges.size else 0

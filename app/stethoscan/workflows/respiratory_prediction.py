"""The respiratory model on a recording: per-cycle results with evidence in time and frequency,
a summary, and the recording-level :class:`Prediction` for the ``respiratory_cycles`` pipeline.

- :func:`predict_cycles` classifies each breathing cycle (expert segments when given, else the
  automatic breath segmentation) and, for abnormal cycles, names where the evidence is, e.g.
  "wheeze evidence at 3.20-3.90 s, 300-450 Hz", from a validated saliency method.
- :func:`summarise_cycles` says "wheezes in 4 of 6 cycles; crackles in 1 of 6 cycles".
- :func:`run` is the pipeline entry: recording-level probabilities (a crackle or wheeze anywhere),
  the saliency map over the whole recording's spectrogram (mel bands x frames) and its top
  regions in words, and the per-cycle results in ``details``.

No torch at import time: models are loaded (and torch imported) by ``stethoscan.inference``.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.audio.clip import AudioClip
from stethoscan.training.respiratory_features import (
    SALIENCY_OPTIONS,
    PatchSpec,
    combine_window_probabilities,
    cycle_patches,
    log_mel_db,
    to_model_rate,
)

DEFAULT_MODEL = "respiratory-cycles"
SALIENCY_PREFERENCE = ("gradcam", "occlusion", "ig")
EVIDENCE_NAMES = {"crackle": "crackle", "wheeze": "wheeze", "both": "crackle and wheeze"}


def _progress(task, fraction: float, message: str) -> None:
    if task is not None:
        task.check_cancelled()
        task.progress(fraction, message)


def _load(model: Any):
    if model is None or isinstance(model, str | Path):
        from stethoscan.inference.runtime import load_model

        return load_model(model or DEFAULT_MODEL)
    return model


def automatic_cycles(mono: np.ndarray, rate_hz: int) -> list[tuple[float, float]]:
    """Breathing cycles (s) from the breath segmentation of the preprocessed recording, as the
    analysis finds them (silent lead-in and tail left out)."""
    from stethoscan.audio.analysis.preprocessing import preprocess
    from stethoscan.audio.analysis.quiet_edges import segment_sounding_breaths, sounding_span_s

    pre = preprocess(mono, rate_hz, "breath")
    seg, _quiet = segment_sounding_breaths(pre.samples, pre.rate_hz, sounding_span_s(mono, rate_hz))
    return list(seg.cycles)


def fixed_windows(duration_s: float, segment_s: float) -> list[tuple[float, float]]:
    """Consecutive windows of ``segment_s`` (when no cycle could be found)."""
    count = max(1, int(math.ceil(duration_s / segment_s - 0.25)))
    return [(i * segment_s, min((i + 1) * segment_s, duration_s)) for i in range(count)]


def _cycle_segments(segments) -> list[tuple[float, float]]:
    """``(start, end)`` or ``(start, end, label)`` items; labelled ones keep only ``cycle``."""
    out = []
    for seg in segments:
        if len(seg) >= 3 and seg[2] not in ("cycle", "", None):
            continue
        if float(seg[1]) > float(seg[0]):
            out.append((float(seg[0]), float(seg[1])))
    return out


def choose_saliency_method(model, wanted: str | None = "auto") -> str | None:
    """The first validated method of the preference order for "auto", ``wanted`` if it is
    validated, None for None or "none" (no map, as in the other pipelines)."""
    from stethoscan.inference.saliency.compute import offered_methods

    offered = offered_methods(model)
    if wanted in (None, "none"):
        return None
    if wanted != "auto":
        return wanted if wanted in offered else None
    return next((m for m in SALIENCY_PREFERENCE if m in offered), None)


def cycle_saliency(model, patches: np.ndarray, offsets_s: list[float], duration_s: float,
                   spec: PatchSpec, target: int, method: str) -> np.ndarray:  # fmt: skip
    """Saliency folded onto the cycle's own frames: (n_mels, cycle frames), max over windows
    (and over the repetitions of a short cycle)."""
    from stethoscan.inference.saliency.compute import compute_saliency

    hop_s = spec.hop_length / spec.rate_hz
    frames = max(1, int(round(duration_s / hop_s)))
    folded = np.zeros((spec.n_mels, frames), dtype=np.float32)
    for patch, offset in zip(patches, offsets_s, strict=True):
        sal = compute_saliency(model, {"spectrogram": patch[None, None]}, method, target=target,
                               options=SALIENCY_OPTIONS.get(method))  # fmt: skip
        columns = np.arange(sal.shape[1]) + int(round(offset / hop_s))
        if len(offsets_s) == 1:
            columns = columns % frames
        keep = columns < frames
        np.maximum.at(folded, (slice(None), columns[keep]), sal[:, keep])
    return folded


def evidence_sentence(label: str, region: str | None, loudest: str | None = None,
                      why_not: str = "no saliency method passed its checks") -> str:
    """E.g. "wheeze evidence at 3.20-3.90 s, 300-450 Hz" (from a validated saliency map); without
    one, the loudest sound above the background is named instead, and said to be only that;
    ``why_not`` says why the model's evidence is not located."""
    if label == "normal":
        return "no crackle or wheeze evidence"
    what = EVIDENCE_NAMES.get(label, label)
    if region:
        return f"{what} evidence at {region}"
    if loudest:
        return (f"{what}; loudest sound above the background at {loudest} "
                f"({why_not}, so the model's evidence is not located)")  # fmt: skip
    return f"{what} ({why_not}, so the evidence is not located)"


def _why_not_located(model, wanted: str | None, method: str | None) -> str:
    """Why a cycle's evidence has no map: not asked for, the method not validated, or none."""
    from stethoscan.inference.saliency import METHOD_TITLES
    from stethoscan.inference.saliency.compute import offered_methods

    if wanted in (None, "none"):
        return "no explanation map was asked for"
    if method is not None:
        return f"the {METHOD_TITLES.get(method, method)} map found no region above half its peak"
    if wanted != "auto" and offered_methods(model):
        return f"{METHOD_TITLES.get(wanted, wanted)} did not pass its checks for this model"
    return "no saliency method passed its checks"


def loudest_region(patches: np.ndarray, offsets_s: list[float], duration_s: float,
                   start_s: float, spec: PatchSpec) -> str | None:  # fmt: skip
    """Where the cycle's spectrogram rises most above each band's background, in words."""
    hop_s = spec.hop_length / spec.rate_hz
    frames = max(1, int(round(duration_s / hop_s)))
    folded = np.zeros((spec.n_mels, frames), dtype=np.float32)
    for patch, offset in zip(patches, offsets_s, strict=True):
        first = int(round(offset / hop_s))
        width = min(patch.shape[1], frames - first)
        if width > 0:
            folded[:, first : first + width] = np.maximum(folded[:, first : first + width],
                                                          np.clip(patch[:, :width], 0, None))  # fmt: skip
    return _describe_top(folded, start_s, spec)


def _describe_top(saliency: np.ndarray, start_s: float, spec: PatchSpec) -> str | None:
    from stethoscan.inference.saliency.regions import describe_regions

    times = start_s + np.arange(saliency.shape[1]) * spec.hop_length / spec.rate_hz
    regions = describe_regions(saliency, "spectrogram",
                               {"times_s": times, "frequencies_hz": spec.mel_frequencies_hz()},
                               top_k=1)  # fmt: skip
    return regions[0] if regions else None


def predict_cycles(clip: AudioClip, segments=None, task=None, model: Any = None,
                   saliency: str | None = "auto", maps: dict | None = None) -> list[dict]:  # fmt: skip
    """One dict per breathing cycle: start_s, end_s, label, probabilities (label -> calibrated
    probability), evidence (sentence), segmentation ("given", "automatic" or "fixed windows").

    ``maps``, when a dict, receives each abnormal cycle's folded saliency map by cycle index.
    """
    from stethoscan.audio.analysis.pipeline import require_audible

    model = _load(model)
    input_warnings(clip, model)  # too short or too coarse a recording is refused, as by predict
    require_audible(clip.mono())  # a muted input's noise holds no breaths, crackles or wheezes
    spec = PatchSpec.from_manifest(model.manifest.input.audio)
    labels = list(model.manifest.labels)
    mono = clip.mono()
    _progress(task, 0.05, "Finding breathing cycles")
    source = "given"
    cycles = _cycle_segments(segments) if segments is not None else []
    if segments is None:
        cycles, source = automatic_cycles(mono, clip.rate_hz), "automatic"
    if not cycles:
        cycles, source = fixed_windows(clip.duration_s, spec.segment_s), "fixed windows"
    x = to_model_rate(mono, clip.rate_hz, spec)
    method = choose_saliency_method(model, saliency)
    all_patches = [cycle_patches(x, start, end, spec) for start, end in cycles]
    _progress(task, 0.2, "Classifying the cycles")
    window_probs = model.predict_proba({"spectrogram": np.concatenate([cp.patches for cp in all_patches])[:, None]})
    bounds = np.cumsum([0] + [len(cp.patches) for cp in all_patches])
    results = []
    for index, ((start, end), cp) in enumerate(zip(cycles, all_patches, strict=True)):
        _progress(task, 0.3 + 0.65 * index / len(cycles), f"Cycle {index + 1} of {len(cycles)}")
        probs = combine_window_probabilities(window_probs[bounds[index] : bounds[index + 1]])
        top = int(np.argmax(probs))
        region = loudest = None
        if labels[top] != "normal" and method is not None:
            folded = cycle_saliency(model, cp.patches, cp.offsets_s, cp.cycle_duration_s, spec, top, method)
            region = _describe_top(folded, start, spec)
            if maps is not None:
                maps[index] = folded
        elif labels[top] != "normal" and saliency not in (None, "none"):
            loudest = loudest_region(cp.patches, cp.offsets_s, cp.cycle_duration_s, start, spec)
        results.append({
            "index": index, "start_s": round(start, 3), "end_s": round(end, 3),
            "label": labels[top], "probability": round(float(probs[top]), 4),
            "probabilities": {lab: round(float(p), 4) for lab, p in zip(labels, probs, strict=True)},
            "evidence": evidence_sentence(labels[top], region, loudest,
                                          _why_not_located(model, saliency, method)),
            "segmentation": source,
            "saliency_method": method if region else None,
            "disclaimer": model.manifest.disclaimer,
            "synthetic_training_data": bool(model.manifest.model.synthetic_training_data),
        })  # fmt: skip
    _progress(task, 1.0, "Done")
    return results


def summarise_cycles(cycles: list[dict]) -> str:
    """E.g. "wheezes in 4 of 6 cycles; crackles in 1 of 6 cycles" or "no crackles or wheezes in 6 cycles"."""
    n = len(cycles)
    if n == 0:
        return "no breathing cycles found"
    wheezes = sum(c["label"] in ("wheeze", "both") for c in cycles)
    crackles = sum(c["label"] in ("crackle", "both") for c in cycles)
    parts = [f"{name} in {count} of {n} cycles"
             for name, count in (("wheezes", wheezes), ("crackles", crackles)) if count]  # fmt: skip
    return "; ".join(parts) if parts else f"no crackles or wheezes in {n} cycles"


def recording_applicability(clip: AudioClip, cycles: list[dict], model: Any = None):
    """Is the recording like the model's training sounds? (``respiratory_applicability``)

    ``cycles``: the rows of ``predict_cycles`` (their start_s/end_s). Returns an
    ``Applicability`` whose ``warning`` (or None) is shown beside the model's results.
    """
    from stethoscan.training.respiratory_applicability import (
        check_recording,
        floor_shares,
        read_reference,
    )
    from stethoscan.training.respiratory_domain_gap import cycle_sound_statistics

    model = _load(model)
    reference = read_reference(getattr(getattr(model, "package", None), "path", None))
    if reference is None:
        return check_recording([], None)
    spec = PatchSpec.from_manifest(model.manifest.input.audio)
    x = to_model_rate(clip.mono(), clip.rate_hz, spec)
    rows, mels = [], []
    for cycle in cycles:
        a, b = int(cycle["start_s"] * spec.rate_hz), int(cycle["end_s"] * spec.rate_hz)
        if b - a >= int(MIN_CHECK_S * spec.rate_hz):
            rows.append(cycle_sound_statistics(x[a:b], spec))
            mels.append(log_mel_db(x[a:b], spec))
    windows = bool(cycles) and cycles[0].get("segmentation") == "fixed windows"
    return check_recording(rows, reference, "windows" if windows else "cycles",
                           floor_shares(mels, spec.mel_frequencies_hz()))  # fmt: skip


MIN_CHECK_S = 0.2  # as the shortest training cycle


def _on_frames(spectrogram: np.ndarray, frames: int) -> np.ndarray:
    """``spectrogram`` cut or edge-padded to ``frames`` columns (the saliency map's grid)."""
    if spectrogram.shape[1] >= frames:
        return spectrogram[:, :frames]
    return np.pad(spectrogram, ((0, 0), (0, frames - spectrogram.shape[1])), mode="edge")


def recording_saliency(duration_s: float, cycles: list[dict], maps: dict, spec: PatchSpec):
    """(map over the whole recording (n_mels, frames) or None, its axes)."""
    hop_s = spec.hop_length / spec.rate_hz
    frames = max(1, int(math.ceil(duration_s / hop_s)))
    axes = {"times_s": (np.arange(frames) * hop_s).round(4).tolist(),
            "frequencies_hz": spec.mel_frequencies_hz().round(1).tolist()}  # fmt: skip
    if not maps:
        return None, axes
    whole = np.zeros((spec.n_mels, frames), dtype=np.float32)
    for index, folded in maps.items():
        first = int(round(cycles[index]["start_s"] / hop_s))
        width = min(folded.shape[1], frames - first)
        if width > 0:
            whole[:, first : first + width] = np.maximum(whole[:, first : first + width], folded[:, :width])
    return whole, axes


def run(model: Any, input_path, options: dict | None = None, task=None):
    """Pipeline ``respiratory_cycles``: the recording-level Prediction.

    ``options``: ``saliency`` ("auto", a method name or "none"), ``segments`` (list of
    ``(start_s, end_s)`` expert cycles; automatic segmentation when absent).
    """
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.inference.prediction import Prediction
    from stethoscan.inference.saliency.regions import describe_regions

    options = dict(options or {})
    model = _load(model)
    clip = input_path if isinstance(input_path, AudioClip) else read_audio(input_path)
    spec = PatchSpec.from_manifest(model.manifest.input.audio)
    warnings = input_warnings(clip, model)
    maps: dict[int, np.ndarray] = {}
    cycles = predict_cycles(clip, options.get("segments"), task, model,
                            options.get("saliency", "auto"), maps)  # fmt: skip
    per_cycle = np.array([[c["probabilities"][lab] for lab in model.manifest.labels] for c in cycles])
    probs = combine_window_probabilities(per_cycle) if len(cycles) else np.array([1.0, 0, 0, 0])
    whole, axes = recording_saliency(clip.duration_s, cycles, maps, spec)
    underlay = None
    if whole is not None:
        underlay = _on_frames(log_mel_db(to_model_rate(clip.mono(), clip.rate_hz, spec), spec), whole.shape[1])
    regions = describe_regions(whole, "spectrogram", axes) if whole is not None else []
    if cycles and cycles[0]["segmentation"] == "fixed windows":
        warnings.append("No breathing cycles were found; the model ran on consecutive "
                        f"{spec.segment_s:g} s windows instead.")  # fmt: skip
    method = next((c["saliency_method"] for c in cycles if c["saliency_method"]), None)
    if whole is None and options.get("saliency", "auto") not in (None, "none", "auto"):
        warnings.append(_no_map_warning(model, options["saliency"], cycles))
    applicability = recording_applicability(clip, cycles, model)
    if applicability.warning:
        warnings.append(applicability.warning)
    return Prediction.from_probabilities(
        model.manifest, probs, saliency=whole, saliency_space="spectrogram" if whole is not None else None,
        saliency_method=method, saliency_regions=regions, saliency_axes=axes, warnings=warnings,
        underlay=underlay,
        inputs_used=["audio"],
        details={"cycles": cycles, "summary": summarise_cycles(cycles),
                 "recording_probabilities": "a crackle or wheeze in any cycle",
                 "applicability": applicability.to_dict()},
    )  # fmt: skip


def _no_map_warning(model, wanted: str, cycles: list[dict]) -> str:
    """Why a map that was asked for was not made (as the other pipelines say it)."""
    from stethoscan.inference.saliency import METHOD_TITLES
    from stethoscan.inference.saliency.compute import offered_methods

    title = METHOD_TITLES.get(wanted, wanted)
    offered = offered_methods(model)
    if wanted not in offered:
        names = ", ".join(METHOD_TITLES.get(m, m) for m in offered) or "none"
        return (f"No saliency map: {title} did not pass the sanity checks for {model.name}, "
                f"so it is not offered (offered: {names}).")  # fmt: skip
    if all(c["label"] == "normal" for c in cycles):
        return f"No saliency map: every cycle was called normal, so {title} had nothing to explain."
    return f"No saliency map: the {title} maps found no region above half their peak."


def input_warnings(clip: AudioClip, model) -> list[str]:
    """Mismatches between the recording and what the model expects (shown beside the result)."""
    from stethoscan.core.errors import InputMismatchError

    audio = model.manifest.input.audio
    warnings = []
    minimum = audio.min_sample_rate_hz or 0
    if clip.rate_hz < minimum:
        raise InputMismatchError(
            f"The recording is sampled at {clip.rate_hz} Hz; this model needs at least {minimum} Hz "
            "to hear wheezes and crackles. Record again at 8 kHz or more."
        )
    if clip.duration_s < audio.min_duration_s:
        raise InputMismatchError(
            f"The recording lasts {clip.duration_s:.1f} s; at least {audio.min_duration_s:g} s "
            "(a full breath) is needed."
        )
    if clip.duration_s < 2 * audio.segment_s:
        warnings.append("The recording is short (fewer than two breaths?); results are less reliable.")
    return warnings

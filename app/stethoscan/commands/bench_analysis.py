"""``stethoscan bench analysis [--json]``: the analysis pipeline and the voice report, timed.

- Whole breath pipeline (plus the respiratory model's per-cycle results when its workflow is
  installed) on a synthetic 20 s, 4 kHz stethoscope recording; target < 150 ms. Baseline in the
  same run: a plain librosa pass (log-mel + MFCC over the whole recording). Reported beside it:
  the same with the model's validated saliency map for every abnormal cycle
  (``pipeline_with_explanation_20s_ms``; Integrated Gradients costs 16 forward and backward
  passes per window).
- Voice report on a synthetic 5 s sustained vowel at 16 kHz; target < 200 ms. Baseline in the
  same run: librosa's pYIN F0 alone on the same vowel.
Each figure is the best of ``--repeat`` runs (ms).
"""

from __future__ import annotations

import argparse
import importlib
import json
import time


def register(bench_subparsers: argparse._SubParsersAction) -> None:
    parser = bench_subparsers.add_parser(
        "analysis", help="breath pipeline (20 s) and voice report (5 s vowel) against baselines"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--repeat", type=int, default=5, help="runs per measurement (best kept)")
    parser.set_defaults(func=run)


def _best_ms(fn, repeat: int) -> float:
    fn()  # warm-up: imports, FFT plans, caches
    best = float("inf")
    for _ in range(max(repeat, 1)):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return round(best * 1000.0, 2)


def _respiratory_workflow():
    try:
        return importlib.import_module("stethoscan.workflows.respiratory_prediction")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("stethoscan.workflows.respiratory_prediction"):
            return None
        raise


def run(args: argparse.Namespace) -> int:
    import librosa
    import numpy as np

    from stethoscan.audio.analysis.pipeline import analyze_recording
    from stethoscan.audio.analysis.synthetic_sounds import synth_breathing, synth_vowel
    from stethoscan.audio.analysis.voice_report import voice_report
    from stethoscan.audio.clip import AudioClip

    breath, _, _ = synth_breathing(20.0, 4000, seed=1)
    clip = AudioClip(breath[:, None], 4000, source="synthetic")
    workflow = _respiratory_workflow()

    def pipeline(saliency: str = "none"):
        result = analyze_recording(clip, "breath")
        if workflow is not None:
            rows = workflow.predict_cycles(clip, result.segments, None, saliency=saliency)
            if hasattr(workflow, "recording_applicability"):  # shown beside every result
                workflow.recording_applicability(clip, rows)

    def librosa_pass():
        mel = librosa.feature.melspectrogram(y=breath, sr=4000, n_mels=40)
        librosa.feature.mfcc(S=librosa.power_to_db(mel), n_mfcc=13)

    vowel = synth_vowel(5.0, 16000, seed=1).astype(np.float64)
    figures = {
        "pipeline_breath_20s_ms": _best_ms(pipeline, args.repeat),
        "pipeline_includes_model": workflow is not None,
        "pipeline_with_explanation_20s_ms": (
            _best_ms(lambda: pipeline("auto"), args.repeat) if workflow is not None else None
        ),
        "baseline_librosa_features_20s_ms": _best_ms(librosa_pass, args.repeat),
        "pipeline_target_ms": 150.0,
        "voice_report_5s_ms": _best_ms(lambda: voice_report(vowel, 16000), args.repeat),
        "baseline_pyin_5s_ms": _best_ms(
            lambda: librosa.pyin(vowel, fmin=75, fmax=600, sr=16000), max(args.repeat // 2, 1)
        ),
        "voice_report_target_ms": 200.0,
    }
    figures["pipeline_vs_baseline"] = round(
        figures["pipeline_breath_20s_ms"] / figures["baseline_librosa_features_20s_ms"], 2
    )
    figures["voice_report_vs_pyin"] = round(
        figures["voice_report_5s_ms"] / figures["baseline_pyin_5s_ms"], 3
    )
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        for key, value in figures.items():
            print(f"{key:36s} {value}")
    return 0

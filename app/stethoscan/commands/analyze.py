"""``stethoscan analyze FILE --task breath|voice|cough [--json] [--out DIR]``.

Prints what the studio's review view shows: segments with times, breathing rate, I/E ratio,
cough count, the voice report and, for breath recordings, the bundled respiratory model's
per-cycle results when that model is installed. ``--out`` writes ``features.csv`` (one row per
segment) and ``segments.json``.
"""

from __future__ import annotations

import argparse
import importlib
import json
from pathlib import Path


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "analyze", help="analyse a breath, voice or cough recording (segments, rates, voice report)"
    )
    parser.add_argument("file", type=Path, help="audio file (WAV, FLAC, OGG, MP3)")
    parser.add_argument("--task", required=True, choices=("breath", "voice", "cough"))
    parser.add_argument("--voice-kind", choices=("sustained", "speech"),
                        help="for --task voice: which norms apply (default: guessed)")
    parser.add_argument("--json", action="store_true", help="print the full result as JSON")
    parser.add_argument("--out", type=Path, help="folder for features.csv and segments.json")
    parser.set_defaults(func=run)


def _model_results(clip, result) -> list[dict]:
    """Per-cycle predictions from the respiratory workflow, if that module is installed."""
    try:
        module = importlib.import_module("stethoscan.workflows.respiratory_prediction")
    except ModuleNotFoundError as exc:
        if exc.name and exc.name.startswith("stethoscan.workflows.respiratory_prediction"):
            return []
        raise
    from stethoscan.core.errors import InputMismatchError

    try:
        predictions = module.predict_cycles(clip, result.segments, None)
    except InputMismatchError as exc:  # e.g. shorter than a breath: the analysis still stands
        reason = str(exc)
        result.notes.append(f"The respiratory model was not run: {reason[:1].lower()}{reason[1:]}")
        return []
    predictions = list(predictions or [])
    if predictions and hasattr(module, "recording_applicability"):
        check = module.recording_applicability(clip, predictions)
        result.model_applicability = check.to_dict()
        if check.warning:
            result.notes.append(check.warning)
    return predictions


def _fmt(value, digits: int = 2, unit: str = "") -> str:
    if value is None:
        return "n/a"
    return f"{value:.{digits}f}{unit}"


def _print_text(result) -> None:
    print(f"Recording: {result.duration_s:.2f} s at {result.rate_hz} Hz, task {result.task_kind}")
    print("Preprocessing:" if result.preprocessing else "Preprocessing: none")
    for number, step in enumerate(result.preprocessing, start=1):
        params = ", ".join(f"{k} {v}" for k, v in step.items()
                           if k not in ("step", "rate_before_hz", "rate_after_hz"))  # fmt: skip
        rates = f"{step.get('rate_before_hz')} -> {step.get('rate_after_hz')} Hz"
        print(f"  {number}. {step['step'].replace('_', ' ')} ({params}): {rates}")
    if result.task_kind == "voice" and result.preprocessing:
        print("  (for listening only: the voice report and features use the samples as recorded, "
              "as Praat does)")
    print(f"Segments ({len(result.segments)}):")
    for start, end, label in result.segments:
        print(f"  {start:8.3f} - {end:8.3f} s  {label}")
    if result.task_kind == "breath":
        span = result.breathing_rate_range_bpm
        uncertain = (f" (uncertain: {span[0]:.1f}-{span[1]:.1f} on inaudibly changed copies)"
                     if span is not None and span[1] - span[0] > 3.0 else "")  # fmt: skip
        print(f"Breathing rate: {_fmt(result.breathing_rate_bpm, 1, ' breaths/min')}{uncertain}")
        print(f"Inspiration/expiration ratio: {_fmt(result.ie_ratio, 2)}")
    if result.task_kind == "cough":
        print(f"Cough count: {result.cough_count}")
    if result.voice_report:
        _print_voice_report(result.voice_report)
    _print_model_results(result.model_results)
    for note in result.notes:
        print(f"Note: {note}")


def _print_model_results(rows: list[dict]) -> None:
    """One line per classified cycle: times (s), label, calibrated probabilities (%), evidence."""
    if not rows:
        return
    first = rows[0]
    caveats = [first.get("disclaimer") or ""]
    if first.get("synthetic_training_data"):
        caveats.append("trained on synthetic sounds, not on patients")
    unit = "fixed time window (no breathing cycles were found)" if first.get("segmentation") == \
        "fixed windows" else "breathing cycle"
    print(f"Respiratory model, per {unit} ({'; '.join(c for c in caveats if c)}):")
    for row in rows:
        probabilities = ", ".join(f"{name} {_percent(p)}"
                                  for name, p in (row.get("probabilities") or {}).items())  # fmt: skip
        print(f"  {row['start_s']:8.3f} - {row['end_s']:8.3f} s  {row.get('label', '?'):<8} "
              f"{_percent(row.get('probability', float('nan'))):>5}  ({probabilities})")
        if row.get("evidence"):
            print(f"{'':25}{row['evidence']}")


def _percent(probability: float) -> str:
    """A model probability in %, never shown as certain: ">99 %" and "<1 %" as in the GUI."""
    if probability != probability:  # NaN
        return "n/a"
    pct = round(100 * probability)
    return ">99 %" if pct >= 100 else "<1 %" if pct <= 0 else f"{pct} %"


def _print_voice_report(report: dict) -> None:
    print(f"Voice report ({report['kind']}):")
    for m in report["measures"]:
        low, high = m["normal_low"], m["normal_high"]
        norm = ""
        if low is not None or high is not None:
            norm = f"normal {'>= ' + format(low, 'g') if low is not None else ''}"
            norm += f"{' and ' if low is not None and high is not None else ''}"
            norm += f"{'<= ' + format(high, 'g') if high is not None else ''}"
        flag = {"low": "  LOW", "high": "  HIGH"}.get(m["flag"] or "", "")
        value = "n/a" if m["value"] is None or m["value"] != m["value"] else f"{m['value']:.3f}"
        print(f"  {m['label']:<28} {value:>10} {m['unit']:<7} {norm}{flag}")
    withheld: dict[str, list[str]] = {}  # why a norm was not applied -> the rows concerned
    for m in report["measures"]:
        if (m.get("source") or "").startswith(("no norm under", "no norm for")):
            withheld.setdefault(m["source"], []).append(m["label"])
    for reason, labels in withheld.items():
        text = f"{labels[0]}: {reason}" if len(labels) == 1 else reason[:1].upper() + reason[1:]
        print(f"  {text}.")


def run(args: argparse.Namespace) -> int:
    from stethoscan.audio.analysis.features import write_features_csv
    from stethoscan.audio.analysis.pipeline import analyze_recording
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.commands.output_paths import check_output_folder
    from stethoscan.core.task import ConsoleTask

    if args.voice_kind and args.task != "voice":
        from stethoscan.core.errors import ValidationError

        raise ValidationError(f"--voice-kind applies to --task voice only; leave it out for "
                              f"--task {args.task}.")  # fmt: skip
    if args.out:
        check_output_folder(args.out)
    clip = read_audio(args.file)
    result = analyze_recording(clip, args.task, ConsoleTask("Analysing"), voice_kind=args.voice_kind)
    if args.task == "breath":
        result.model_results = _model_results(clip, result)
    if args.out:
        args.out.mkdir(parents=True, exist_ok=True)
        write_features_csv(result.features, args.out / "features.csv")
        (args.out / "segments.json").write_text(
            json.dumps(result.to_dict()["segments"], indent=2), encoding="utf-8"
        )
    if args.json:
        print(result.to_json())
    else:
        _print_text(result)
    return 0

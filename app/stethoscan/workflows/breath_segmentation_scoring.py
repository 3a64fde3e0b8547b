"""Score the automatic breathing cycles against annotated recordings (``stethoscan evaluate
--breath-segmentation``).

For every recording with reference cycles (the ICBHI layout: a WAV and its cycle ``.txt``; a
folder with a labels.csv of ``file,start_s,end_s,label``; or synthetic recordings whose cycles
are known) the signal pipeline's segmentation runs as in the review view, and the breathing rate
and the cycle boundaries are compared with the reference: rate error (breaths/min) against the
rate the reference implies, and boundary F1 within 0.5 s (``audio.analysis.segmentation_scoring``).
Writes ``segmentation_scores.csv`` (one row per recording) and ``segmentation_summary.json``.
A recording that cannot be read is listed with its reason and the others go on.
"""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import StethoscanError, ValidationError
from stethoscan.core.task import SilentTask, Task

RATE_TOLERANCE_BPM = 3.0  # the target: within 3 breaths/min
COLUMNS = ("recording", "duration_s", "reference_rate_bpm", "rate_bpm", "rate_error_bpm",
           "rate_low_bpm", "rate_high_bpm", "uncertain", "reference_cycles", "cycles", "boundary_f1")


def score_recording(samples: np.ndarray, rate_hz: float, reference: list[tuple[float, float]]) -> dict:
    """The figures of one recording (mono ``samples`` at ``rate_hz``, reference cycles in s)."""
    from stethoscan.audio.analysis.breath_rate_stability import (
        perturbed_rates,
        rate_range,
        unstable_note,
    )
    from stethoscan.audio.analysis.preprocessing import preprocess
    from stethoscan.audio.analysis.quiet_edges import segment_sounding_breaths, sounding_span_s
    from stethoscan.audio.analysis.segmentation_scoring import (
        boundary_f1,
        cycle_boundaries,
        reference_rate_bpm,
    )

    duration_s = samples.size / float(rate_hz)
    pre = preprocess(samples, rate_hz, "breath")
    span_s = sounding_span_s(samples, rate_hz)
    seg, _ = segment_sounding_breaths(pre.samples, pre.rate_hz, span_s)
    expected = reference_rate_bpm(reference, duration_s)
    rate = float(seg.rate_bpm) if math.isfinite(seg.rate_bpm) else None
    error = abs(rate - expected) if rate is not None and expected is not None else None
    span = None
    if rate is not None:  # as the analysis does (breath_rate_stability)
        others = perturbed_rates(pre.samples, lambda x: segment_sounding_breaths(x, pre.rate_hz, span_s)[0].rate_bpm)
        span = rate_range(rate, others)
    return {"duration_s": round(duration_s, 3), "reference_rate_bpm": expected, "rate_bpm": rate,
            "rate_error_bpm": error, "rate_low_bpm": span[0] if span else None,
            "rate_high_bpm": span[1] if span else None, "uncertain": unstable_note(span) is not None,
            "reference_cycles": len(reference), "cycles": len(seg.cycles),
            "boundary_f1": boundary_f1(cycle_boundaries(seg.cycles), cycle_boundaries(reference))}


def run(out_dir: Path, data_path: Path | None = None, synthetic: int | None = None, seed: int = 12345,
        task: Task | None = None) -> dict[str, Any]:
    """Score every annotated recording of ``data_path`` (or ``synthetic`` synthetic cycles)."""
    from stethoscan.training.icbhi_dataset import read_recordings, synthetic_recordings

    task = task or SilentTask()
    if (data_path is None) == (synthetic is None):
        raise ValidationError("Give either a data folder or a number of synthetic cycles.")
    recordings = read_recordings(Path(data_path)) if data_path is not None else synthetic_recordings(synthetic, seed)
    rows, failures = [], []
    for index, rec in enumerate(recordings):
        task.check_cancelled()
        task.progress(index / len(recordings), f"Segmenting {index + 1} of {len(recordings)}")
        try:
            samples, rate_hz = rec.audio()
        except (StethoscanError, OSError) as exc:
            failures.append({"recording": rec.name, "reason": str(exc)})
            continue
        reference = sorted((c.start_s, c.end_s) for c in rec.cycles)
        rows.append({"recording": rec.name, **score_recording(samples, rate_hz, reference)})
    task.progress(1.0, "Scored")
    summary = summarise(rows)
    summary["failures"] = failures
    summary["source"] = str(data_path) if data_path is not None else f"synthetic {synthetic} cycles, seed {seed}"
    write(Path(out_dir), rows, summary)
    return summary


def summarise(rows: list[dict]) -> dict[str, Any]:
    """Share within RATE_TOLERANCE_BPM, median rate error, mean boundary F1 (rated rows only)."""
    errors = [r["rate_error_bpm"] for r in rows if r["rate_error_bpm"] is not None]
    f1s = [r["boundary_f1"] for r in rows]
    rated = [r for r in rows if r["rate_error_bpm"] is not None]
    off = [r["rate_error_bpm"] > RATE_TOLERANCE_BPM for r in rated]
    flagged = [bool(r.get("uncertain")) for r in rated]

    def share(values: list[bool]) -> float | None:
        return float(np.mean(values)) if values else None

    return {
        "recordings": len(rows),
        "rated_recordings": len(errors),  # with a rate from both the reference and the method
        "within_3_bpm": float(np.mean([e <= RATE_TOLERANCE_BPM for e in errors])) if errors else None,
        "median_rate_error_bpm": float(np.median(errors)) if errors else None,
        "mean_boundary_f1": float(np.mean(f1s)) if f1s else None,
        # the "uncertain" warning (breath_rate_stability): how often, and how often it is right
        "uncertain_share": share(flagged),
        "off_by_more_than_3_when_uncertain": share([o for o, f in zip(off, flagged, strict=True) if f]),
        "off_by_more_than_3_when_not": share([o for o, f in zip(off, flagged, strict=True) if not f]),
        "uncertain_among_off_by_more_than_3": share([f for o, f in zip(off, flagged, strict=True) if o]),
    }


def write(out_dir: Path, rows: list[dict], summary: dict) -> None:
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        with (out_dir / "segmentation_scores.csv").open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=COLUMNS)
            writer.writeheader()
            for row in rows:
                writer.writerow({k: _cell(row[k]) for k in COLUMNS})
        (out_dir / "segmentation_summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    except OSError as exc:
        raise ValidationError(f"The scores could not be written to {out_dir} ({exc}); choose a folder "
                              "you can write to.") from exc


def _cell(value: Any) -> Any:
    if value is None:
        return ""
    return round(value, 4) if isinstance(value, float) else value

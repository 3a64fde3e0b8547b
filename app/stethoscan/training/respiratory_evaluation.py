"""Evaluation of a respiratory cycle classifier on labelled cycles (ICBHI, CSV folder, synthetic).

The per-cycle probabilities come from any ``predict_proba(patches) -> (W, 4)`` (a trained
module with its temperature, or a loaded package); long cycles combine their windows. Besides
the classification report (``metrics``) it gives detection AUCs: wheeze score P(wheeze) +
P(both) for wheeze cycles against normal cycles, likewise for crackles, over all cycles and
within each recording that has both kinds (recording and device are then held constant).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.training.icbhi_dataset import CycleSet, extract_cycles, read_recordings
from stethoscan.training.metrics import binary_auc, classification_report, headline
from stethoscan.training.respiratory_features import PatchSpec, combine_window_probabilities
from stethoscan.training.respiratory_synthesis import LABELS

PredictProba = Callable[[np.ndarray], np.ndarray]


def cycle_probabilities(predict_proba: PredictProba, data: CycleSet, batch: int = 128) -> np.ndarray:
    """Calibrated probabilities (cycles, 4) of every cycle in ``data``."""
    window_probs = np.concatenate([predict_proba(data.patches[i : i + batch])
                                   for i in range(0, len(data.patches), batch)])  # fmt: skip
    return np.stack([combine_window_probabilities(window_probs[data.window_cycle == c])
                     for c in range(data.n_cycles)])  # fmt: skip


def _detection(scores: np.ndarray, labels: np.ndarray, kind: int) -> dict[str, Any]:
    """AUC of ``scores`` for cycles having ``kind`` (1 crackle, 2 wheeze) against normal ones."""
    has = np.isin(labels, (kind, 3))
    use = has | (labels == 0)
    return {"auc": binary_auc(scores[use], has[use]), "positives": int(has.sum()),
            "normals": int((labels == 0).sum())}  # fmt: skip


def detection_aucs(probs: np.ndarray, labels: np.ndarray, groups: list[str]) -> dict[str, Any]:
    """Wheeze and crackle detection AUCs, overall and within recordings having both kinds."""
    out: dict[str, Any] = {}
    for name, kind in (("wheeze", 2), ("crackle", 1)):
        scores = probs[:, kind] + probs[:, 3]
        overall = _detection(scores, labels, kind)
        within = {}
        for group in sorted(set(groups)):
            rows = np.asarray([g == group for g in groups])
            result = _detection(scores[rows], labels[rows], kind)
            if result["auc"] is not None:
                within[group] = result
        out[name] = {**overall, "within_recording": within,
                     "mean_score_positive": _mean(scores[np.isin(labels, (kind, 3))]),
                     "mean_score_normal": _mean(scores[labels == 0])}  # fmt: skip
    return out


def _mean(values: np.ndarray) -> float | None:
    return float(np.mean(values)) if values.size else None


def evaluate_cycles(predict_proba: PredictProba, data: CycleSet) -> dict[str, Any]:
    """Classification report, ICBHI figures and detection AUCs of all cycles in ``data``."""
    probs = cycle_probabilities(predict_proba, data)
    report = classification_report(data.labels, probs, LABELS, icbhi_normal_label="normal")
    report["detection"] = detection_aucs(probs, data.labels, data.groups)
    report["class_counts"] = {label: int((data.labels == i).sum()) for i, label in enumerate(LABELS)}
    report["cycles"] = [
        {**info, "true": LABELS[int(t)], "probabilities": [round(float(p), 4) for p in row]}
        for info, t, row in zip(data.cycle_info, data.labels, probs, strict=True)
    ]
    report["skipped"] = list(data.skipped)
    return report


def summary(report: dict[str, Any]) -> dict[str, Any]:
    """Headline figures plus the detection AUCs (rounded, for cards and logs)."""
    out = headline(report)
    for name in ("wheeze", "crackle"):
        det = report.get("detection", {}).get(name)
        if det:
            out[f"{name}_auc"] = None if det["auc"] is None else round(det["auc"], 4)
            out[f"{name}_positives"] = det["positives"]
    out["class_counts"] = report.get("class_counts", {})
    return out


def load_cycles(data_path: Path | None, synthetic: int | None, spec: PatchSpec, seed: int,
                task=None, split: str = "all") -> CycleSet:  # fmt: skip
    """Cycles of a data folder (ICBHI or CSV) or ``synthetic`` cycles drawn with ``seed``.

    ``split`` ("train" or "test") keeps the recordings the official ICBHI split file (or the
    CSV's ``split`` column) assigns to that part; "all" keeps every recording.
    """
    from stethoscan.core.errors import TrainingDataError
    from stethoscan.training.icbhi_dataset import synthetic_recordings

    if synthetic:
        return extract_cycles(synthetic_recordings(int(synthetic), seed), spec, seed=seed,
                              boundary_jitter_s=0.15, task=task)  # fmt: skip
    recordings = read_recordings(Path(data_path))
    if split != "all":
        recordings = [r for r in recordings if r.split == split]
        if not recordings:
            raise TrainingDataError(
                f"No recording of {Path(data_path).name} is marked '{split}': add the official "
                "ICBHI_challenge_train_test.txt (or a split column in labels.csv), or evaluate on all "
                "recordings (--split all)."
            )
    return extract_cycles(recordings, spec, task=task)


def run(model_name: str, out_dir: Path, data_path: Path | None = None,
        synthetic: int | None = None, seed: int = 12345, task=None,
        split: str = "all") -> dict[str, Any]:  # fmt: skip
    """Evaluate an installed or bundled respiratory package; write metrics.json and the PNGs."""
    from stethoscan.inference.runtime import load_model
    from stethoscan.training.evaluation_plots import write_evaluation_plots

    model = load_model(model_name)
    spec = PatchSpec.from_manifest(model.manifest.input.audio)
    data = load_cycles(data_path, synthetic, spec, seed, task, split)
    if task is not None:
        task.progress(0.8, "Running the model")
    report = evaluate_cycles(lambda x: model.predict_proba({"spectrogram": x[:, None]}), data)
    report["model"] = {"name": model.name, "version": model.manifest.model.version}
    report["data"] = (f"{synthetic} synthetic cycles (seed {seed})" if synthetic
                      else f"{data_path} ({split} recordings)")  # fmt: skip
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "metrics.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    write_evaluation_plots(report, out_dir, title_suffix=model.name)
    if task is not None:
        task.progress(1.0, "Done")
    return report

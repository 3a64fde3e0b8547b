"""``stethoscan evaluate --model mci-fusion``: held-out figures on a data folder or synthetic set.

Called by :mod:`stethoscan.commands.evaluate` as ``run(model_name, out_dir, data_path=None,
synthetic=None, seed=12345, task=None)``. ``data_path`` is a folder with ``labels.csv`` (see
:mod:`stethoscan.training.mci_dataset`); ``synthetic`` is a number of fresh synthetic subjects
(the default seed differs from the training seed). Every subject is scored with all its inputs,
with the image only and with the history only. The top-level report (all inputs) is a
:func:`stethoscan.training.metrics.classification_report`; ``conditions`` holds the three.
Writes ``metrics.json``, ``confusion_matrix.png``, ``roc.png`` and ``reliability.png``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import ValidationError
from stethoscan.core.task import SilentTask, Task

CONDITIONS = ("all", "image_only", "history_only")


def _inputs(sample, condition: str) -> dict[str, Any] | None:
    history = sample.history
    image = sample.image if condition != "history_only" else None
    visits = history.visits if condition != "image_only" else None
    static = history.static if condition != "image_only" else None
    inputs = {
        "image": None if image is None else image.astype(np.float32)[None, None],
        "visits": None if visits is None else visits[None],
        "visit_mask": None if visits is None else history.visit_mask[None],
        "static": None if static is None else static[None],
    }
    return inputs if any(v is not None for v in inputs.values()) else None


def run(model_name: str, out_dir: str | Path, data_path: str | Path | None = None,
        synthetic: int | None = None, seed: int = 12345, task: Task | None = None) -> dict[str, Any]:
    """Evaluate ``model_name``; returns (and writes) the report. See the module docstring."""
    from stethoscan.inference.runtime import load_model
    from stethoscan.training.evaluation_plots import write_evaluation_plots
    from stethoscan.training.mci_dataset import CLASSES, folder_dataset, synthetic_dataset
    from stethoscan.training.metrics import classification_report

    task = task or SilentTask()
    model = load_model(model_name)
    if synthetic is not None:
        samples, skipped = synthetic_dataset(int(synthetic), int(seed), task, keep_masks=False), []
    elif data_path is not None:
        samples, skipped = folder_dataset(Path(data_path), task)
    else:
        raise ValidationError("Give a data folder (--data) or a number of synthetic subjects.")
    conditions: dict[str, Any] = {}
    for condition in CONDITIONS:
        usable = [(s, x) for s in samples if (x := _inputs(s, condition)) is not None]
        if usable:
            probs = np.stack([model.predict_proba(x)[0] for _, x in usable])
            labels = np.array([s.label for s, _ in usable])
            conditions[condition] = classification_report(labels, probs, list(CLASSES))
    if "all" not in conditions:
        raise ValidationError("No subject had a usable input.")
    report = {**conditions["all"], "model": model.name,
              "version": model.manifest.model.version, "conditions": conditions,
              "skipped": skipped, "synthetic": synthetic is not None,
              "disclaimer": "Not for diagnostic use" if model.manifest.model.research_use_only else ""}
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "metrics.json").write_text(json.dumps(report, indent=2), encoding="utf-8")
    write_evaluation_plots(conditions["all"], out)
    task.progress(1.0, "evaluation written")
    return report

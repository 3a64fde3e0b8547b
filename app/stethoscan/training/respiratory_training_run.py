"""``train respiratory`` from start to package: ``run(options, task) -> summary``.

Reads the data (ICBHI, CSV folder or synthetic), splits by patient/recording, trains the
network, calibrates it, evaluates it beside the classical baseline on the held-out cycles,
runs the saliency sanity checks (synthetic data: known event boxes), evaluates on extra real
recordings when given, and writes the package with its card and figures.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.training.icbhi_dataset import (
    CycleSet,
    extract_cycles,
    read_recordings,
    synthetic_recordings,
)
from stethoscan.training.respiratory_evaluation import evaluate_cycles, summary
from stethoscan.training.respiratory_features import PatchSpec
from stethoscan.training.respiratory_synthesis import LABELS

_log = logging.getLogger(__name__)


@dataclass
class TrainOptions:
    out_dir: Path
    data_path: Path | None = None
    synthetic: int | None = None
    seed: int = 1
    epochs: int = 12
    arch: str = "resp_cnn"
    eval_data: Path | None = None  # extra labelled real recordings reported in the card
    command: str = ""
    name: str = "respiratory-cycles"
    batch_size: int = 64
    sanity_samples: int = 24
    threads: int = 0  # 0: the idle cores (results are reproducible for a given thread count)


def training_threads(cores: int) -> int:
    """Threads for training: the cores not already busy (1 at least).

    On a shared machine, more threads than idle cores make every thread wait for the others;
    one thread is then several times faster than two.
    """
    import os

    busy = int(round(os.getloadavg()[0])) if hasattr(os, "getloadavg") else 0
    return max(1, min(cores, cores - busy))


def _progress(task, fraction: float, message: str) -> None:
    if task is not None:
        task.check_cancelled()
        task.progress(fraction, message)


class _Scaled:
    """A task view that maps [0, 1] onto a span of the parent's progress."""

    def __init__(self, task, low: float, high: float) -> None:
        self._task, self._low, self._high = task, low, high

    def progress(self, fraction: float, message: str = "") -> None:
        if self._task is not None:
            self._task.progress(self._low + (self._high - self._low) * fraction, message)

    def check_cancelled(self) -> None:
        if self._task is not None:
            self._task.check_cancelled()


def load_training_cycles(options: TrainOptions, spec: PatchSpec, task=None) -> tuple[CycleSet, str]:
    """The cycles to train on and a description of them for the manifest."""
    if options.synthetic:
        _progress(task, 0.0, f"Synthesising {options.synthetic} cycles")
        recordings = synthetic_recordings(int(options.synthetic), options.seed)
        data = extract_cycles(recordings, spec, seed=options.seed, boundary_jitter_s=0.15,
                              with_masks=True, task=_Scaled(task, 0.05, 0.2))  # fmt: skip
        return data, (f"{data.n_cycles} synthetic breathing cycles in {len(recordings)} synthetic "
                      f"recordings (seed {options.seed}), made by "
                      "stethoscan.training.respiratory_synthesis; no real patient data.")  # fmt: skip
    recordings = read_recordings(Path(options.data_path))
    data = extract_cycles(recordings, spec, seed=options.seed, task=_Scaled(task, 0.0, 0.2))
    return data, (f"{data.n_cycles} labelled breathing cycles from {len(recordings)} recordings "
                  f"in '{Path(options.data_path).name}' (ICBHI layout or labelled folder).")  # fmt: skip


def _history_csv(history: list[dict[str, float]]) -> bytes:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(history[0]) if history else ["epoch"])
    writer.writeheader()
    writer.writerows(history)
    return buffer.getvalue().encode("utf-8")


def _plots(report: dict[str, Any], prefix: str, title: str) -> dict[str, bytes]:
    import tempfile

    from stethoscan.training.evaluation_plots import write_evaluation_plots

    with tempfile.TemporaryDirectory() as tmp:
        paths = write_evaluation_plots(report, Path(tmp), prefix=prefix, title_suffix=title)
        return {p.name: p.read_bytes() for p in paths.values()}


def _real_summary(report: dict[str, Any], source: str) -> dict[str, Any]:
    out = summary(report)
    out["source"] = source
    within = report["detection"]["wheeze"]["within_recording"]
    out["within_recording_wheeze_auc"] = {k: round(v["auc"], 4) for k, v in within.items()}
    out["note"] = (
        "Wheeze AUC: P(wheeze) + P(both) of wheeze cycles against normal cycles. With only a few "
        "wheeze cycles, all from one recording, the overall AUC also reflects recording and device "
        "differences; the within-recording AUC holds those constant."
    )
    return out


def _check_classes(data, split: dict[str, np.ndarray]) -> None:
    """A classifier needs at least two classes among its training cycles; say which and why not."""
    from stethoscan.core.errors import TrainingDataError

    present = sorted({LABELS[i] for i in data.labels[split["train"]]})
    if len(present) >= 2:
        return
    skipped = data.skipped
    raise TrainingDataError(
        f"The training part of the data holds only {', '.join(present) or 'no'} cycles: a classifier "
        "needs at least two of normal, crackle, wheeze and both. Check the labels"
        + (f" ({len(skipped)} rows or cycles were left out, e.g. {skipped[0]})" if skipped else "")
        + " or add recordings of the missing classes."
    )


def run(options: TrainOptions, task=None) -> dict[str, Any]:
    """Train, evaluate, check saliency and write the package; returns the headline figures."""
    import torch

    from stethoscan.inference.runtime import physical_core_count
    from stethoscan.training import respiratory_trainer as trainer
    from stethoscan.training.respiratory_applicability import REFERENCE_FILE, reference_bytes
    from stethoscan.training.respiratory_package import PackageContent, write_respiratory_package

    if bool(options.synthetic) == bool(options.data_path):
        from stethoscan.core.errors import ValidationError

        raise ValidationError("Give either --data PATH or --synthetic N (not both, not neither).")
    started = time.monotonic()
    threads = options.threads or training_threads(physical_core_count())
    torch.set_num_threads(threads)
    spec = PatchSpec()
    data, description = load_training_cycles(options, spec, task)
    split = trainer.split_cycles(data, options.seed)
    _check_classes(data, split)
    config = trainer.TrainConfig(arch=options.arch, epochs=options.epochs, seed=options.seed,
                                 batch_size=options.batch_size)  # fmt: skip
    net = trainer.train_network(data, split, config, task, progress_span=(0.2, 0.8))
    _progress(task, 0.8, "Evaluating on held-out cycles")

    def predict(x: np.ndarray) -> np.ndarray:
        return trainer.softmax(trainer.window_logits(net.module, x), net.temperature)

    test = data.subset(split["test"])
    reports = {"held_out_test": evaluate_cycles(predict, test)}
    evaluation = {"held_out_test": summary(reports["held_out_test"])}
    _progress(task, 0.83, "Training the classical baseline")
    baselines = trainer.train_classical(data.features[split["train"]], data.labels[split["train"]],
                                        options.seed)  # fmt: skip
    from stethoscan.training.metrics import classification_report, headline

    for name, model in baselines.items():
        probs = trainer.classical_probabilities(model, test.features)
        report = classification_report(test.labels, probs, LABELS, icbhi_normal_label="normal")
        report["selected_features"] = trainer.selected_feature_names(model, data.feature_names)
        reports[f"baseline_{name}"] = report
        evaluation[f"baseline_{name}"] = headline(report)
    _progress(task, 0.86, "Checking saliency maps")
    saliency = trainer.saliency_sanity(net, data, split["test"], options.seed, options.sanity_samples)
    extra = {"training_history.csv": _history_csv(net.history),
             REFERENCE_FILE: reference_bytes([data.sound_statistics[i] for i in split["train"]])}
    extra.update(_plots(reports["held_out_test"], "test_", "held-out test"))
    if options.eval_data:
        _progress(task, 0.95, "Evaluating on the real recordings")
        real = extract_cycles(read_recordings(Path(options.eval_data)), spec)
        reports["real_sample"] = evaluate_cycles(predict, real)
        evaluation["real_sample"] = _real_summary(reports["real_sample"], Path(options.eval_data).name)
        extra.update(_plots(reports["real_sample"], "real_", "real recordings"))
    extra["metrics.json"] = json.dumps(reports, indent=1).encode("utf-8")
    training = {
        "seconds": round(time.monotonic() - started, 1), "network_seconds": round(net.seconds, 1),
        "threads": threads, "epochs_run": len(net.history), "epochs_max": options.epochs,
        "seed": options.seed, "learning_rate": config.learning_rate,
        "weight_decay": config.weight_decay, "batch_size": config.batch_size,
        "cycles_train": int(split["train"].size), "cycles_val": int(split["val"].size),
        "cycles_test": int(split["test"].size), "windows_train": int(data.windows_of(split["train"]).size),
    }  # fmt: skip
    content = PackageContent(
        arch=net.arch, arch_params=net.arch_params, temperature=net.temperature, spec=spec,
        data_description=description, synthetic=bool(options.synthetic),
        command=options.command or "stethoscan train respiratory", evaluation=evaluation,
        saliency=saliency, training=training, name=options.name, extra_files=extra,
    )  # fmt: skip
    _progress(task, 0.98, "Writing the package")
    write_respiratory_package(Path(options.out_dir), content, net.module.state_dict())
    _progress(task, 1.0, "Done")
    return {"evaluation": evaluation, "saliency": saliency.get("validated_methods", []),
            "training": training, "out_dir": str(options.out_dir)}  # fmt: skip

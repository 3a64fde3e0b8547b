"""Which workflow prepares a model's input: the manifest's ``[model] pipeline`` -> a module.

Each pipeline module has ``run(model, input_path, options, task) -> Prediction``: it reads the
input, checks it against the manifest (a mismatch is a warning in ``Prediction.warnings``, or an
:class:`InputMismatchError` where a result would be meaningless), prepares the model's arrays,
predicts and, when asked (``options["saliency"]``), computes a saliency map on the input grid.

The GUI's model panel calls :func:`predict` in the single inference worker. No torch at import.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

from stethoscan.core.errors import ModelPackageError
from stethoscan.core.task import SilentTask, Task

PIPELINE_MODULES: dict[str, str] = {
    "generic_image2d": "stethoscan.workflows.scan_prediction",
    "generic_volume": "stethoscan.workflows.scan_prediction",
    "generic_audio": "stethoscan.workflows.audio_prediction",
    "respiratory_cycles": "stethoscan.workflows.respiratory_prediction",
    "mci_fusion": "stethoscan.workflows.mci_prediction",
}


def pipeline_module(pipeline: str):
    """The module that runs ``pipeline``; a clear error when it is unknown or not installed."""
    name = PIPELINE_MODULES.get(pipeline)
    if name is None:
        raise ModelPackageError(
            f"The model needs the input pipeline {pipeline!r}, which this version of Stethoscan "
            "does not have. Update Stethoscan.",
            check="pipeline",
        )
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        raise ModelPackageError(
            f"The input pipeline {pipeline!r} is not installed in this version of Stethoscan.",
            check="pipeline",
        ) from exc


def run_pipeline(model: Any, input_path: str | Path | None, options: dict[str, Any] | None = None,
                 task: Task | None = None):  # fmt: skip
    """Run a loaded model's pipeline on one input; returns a ``Prediction``."""
    module = pipeline_module(model.manifest.model.pipeline)
    return module.run(model, input_path, dict(options or {}), task or SilentTask())


def predict(model_name: str | Path, input_path: str | Path | None,
            options: dict[str, Any] | None = None, task: Task | None = None):  # fmt: skip
    """Load (verified, cached) the model ``model_name`` and run it on ``input_path``.

    ``options`` (all optional): ``saliency`` ("gradcam" | "ig" | "occlusion" | None),
    ``saliency_options`` (e.g. ``{"n_steps": 32}``), ``device``; pipeline-specific keys such
    as ``series_uid``, ``slice_index``, ``volume`` (an already loaded Volume) or ``clip``.
    """
    from stethoscan.inference.runtime import load_model

    task = task or SilentTask()
    task.progress(0.0, "loading the model")
    model = load_model(model_name, device=(options or {}).get("device"))
    task.check_cancelled()
    return run_pipeline(model, input_path, options, task)

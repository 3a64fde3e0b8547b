"""Pipelines ``generic_image2d`` and ``generic_volume``: a DICOM series -> a Prediction.

Options: ``volume`` (an already loaded :class:`Volume`, with optional ``modality``,
``body_part`` and ``description`` hints), ``series_uid`` (which series of a folder; default the
one with the most slices), ``slice_index`` (0-based, 2D models; default the middle slice),
``saliency`` and ``saliency_options``. The saliency map is returned on the ORIGINAL grid
(rows x cols of the slice, or slices x rows x cols), so the viewer can overlay it directly.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.core.errors import InputMismatchError
from stethoscan.core.task import Task
from stethoscan.workflows.model_input_checks import (
    ScanHints,
    check_body_part,
    check_modality,
    check_spacing,
    read_scan_hints,
)
from stethoscan.workflows.model_input_grid import fit_to_model_grid, normalize_intensities
from stethoscan.workflows.task_range import TaskRange


def _load_volume(input_path: str | Path | None, options: dict[str, Any], task: Task):
    """(volume, hints): from ``options["volume"]`` or by indexing and loading ``input_path``."""
    if options.get("volume") is not None:
        volume = options["volume"]
        hints = ScanHints(
            modality=options.get("modality", volume.modality),
            body_part=options.get("body_part", ""),
            description=options.get("description", ""),
        )
        return volume, hints
    if input_path is None:
        raise InputMismatchError("Choose a DICOM series (a folder or a file) for this model.")
    from stethoscan.imaging.dicom_index import index_paths
    from stethoscan.imaging.volume_loader import load_volume

    index = index_paths(input_path, TaskRange(task, 0.0, 0.1))
    series_list = index.all_series()
    if not series_list:
        reasons = "; ".join(s.reason for s in index.skipped[:2]) or "no images found"
        raise InputMismatchError(
            f"No DICOM image series could be read from {input_path}: {reasons}."
        )
    wanted = options.get("series_uid")
    chosen = next((s for s in series_list if s.series_uid == wanted), None) if wanted else None
    chosen = chosen or max(series_list, key=lambda s: s.number_of_slices)
    volume = load_volume(chosen, TaskRange(task, 0.1, 0.6))
    hints = read_scan_hints(chosen.instances[0].path if chosen.instances else None)
    hints.modality = hints.modality or chosen.modality or volume.modality
    hints.description = hints.description or chosen.description
    return volume, hints


def _model_input(volume, spec, options: dict[str, Any], warnings: list[str]):
    """(array on the original grid used, its spacing in mm, slice index or None)."""
    data = volume.physical()
    if volume.is_rgb:
        data = data.mean(axis=-1)
        warnings.append("The colour images were converted to grey values for this model.")
    spacing = tuple(float(s) for s in volume.spacing_mm)
    if spec.dimensions == 3:
        if data.shape[0] < spec.min_slices:
            raise InputMismatchError(
                f"This model needs a volume of at least {spec.min_slices} slices; the series has "
                f"{data.shape[0]}. Choose a complete 3D series."
            )
        return data, spacing, None
    index = int(options.get("slice_index", data.shape[0] // 2))
    if not 0 <= index < data.shape[0]:
        raise InputMismatchError(
            f"Slice {index + 1} does not exist (the series has {data.shape[0]})."
        )
    if data.shape[0] > 1:
        warnings.append(f"This is a 2D model: only slice {index + 1} of {data.shape[0]} was used.")
    return data[index], spacing[1:], index


def run(model: Any, input_path: str | Path | None, options: dict[str, Any], task: Task):
    """Predict on a scan; see the module docstring."""
    from stethoscan.inference.prediction import Prediction

    manifest = model.manifest
    spec = manifest.input.scan
    if spec is None:
        raise InputMismatchError(f"{manifest.model.name} does not take a scan as input.")
    warnings: list[str] = []
    volume, hints = _load_volume(input_path, options, task)
    task.check_cancelled()
    check_modality(hints.modality, spec.modalities, manifest.model.name)
    warnings += check_body_part(hints, spec.body_parts)
    data, spacing, slice_index = _model_input(volume, spec, options, warnings)
    warnings += check_spacing(spacing, spec.target_spacing_mm)
    task.progress(0.65, "preparing the model input")
    grid, mapping = fit_to_model_grid(data, spacing, spec.target_spacing_mm, spec.target_shape)
    grid = normalize_intensities(grid, spec.normalization, spec.normalization_params)
    name = "volume" if spec.dimensions == 3 else "image"
    inputs = {name: grid[None, None].astype(np.float32)}
    task.check_cancelled()
    task.progress(0.75, "running the model")
    probabilities = model.predict_proba(inputs)[0]
    extra = _saliency(model, inputs, options, mapping, int(np.argmax(probabilities)), task)
    if extra:
        extra["underlay"] = volume if spec.dimensions == 3 else data
    task.progress(1.0, "done")
    details = {"slice_index": slice_index, "model_grid_shape": list(grid.shape)}
    return Prediction.from_probabilities(
        manifest, probabilities, warnings=warnings, inputs_used=["scan"], details=details, **extra
    )


def _saliency(model, inputs, options, mapping, target: int, task: Task) -> dict[str, Any]:
    method = options.get("saliency")
    if not method:
        return {}
    from stethoscan.inference.saliency.compute import compute_saliency
    from stethoscan.inference.saliency.regions import describe_regions

    task.progress(0.8, "computing the saliency map")
    grid_map = compute_saliency(
        model, inputs, method, target, options=options.get("saliency_options")
    )
    original = mapping.to_original(grid_map)
    space = "volume" if original.ndim == 3 else "image"
    return {
        "saliency": original.astype(np.float32),
        "saliency_space": space,
        "saliency_method": method,
        "saliency_regions": describe_regions(original, space),
    }

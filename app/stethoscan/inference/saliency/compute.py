"""One entry point for saliency on a loaded model: ``compute_saliency(model, inputs, method)``.

Only the methods that passed the package's sanity checks (``[saliency] validated_methods``) are
offered; asking for another raises :class:`ValidationError` unless ``require_validated=False``
(used by the sanity checks themselves and by developers).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from stethoscan.core.errors import ValidationError
from stethoscan.inference.saliency import METHOD_TITLES, METHODS, SPATIAL_INPUTS
from stethoscan.inference.saliency.attribution import integrated_gradients, occlusion
from stethoscan.inference.saliency.gradcam import grad_cam


def spatial_input_name(inputs: dict[str, Any]) -> str:
    """The input a map is drawn on: the first of image, volume, spectrogram present."""
    for name in SPATIAL_INPUTS:
        if inputs.get(name) is not None:
            return name
    raise ValidationError(
        "This model has no image, volume or spectrogram input, so no saliency map can be drawn."
    )


def saliency_maps(
    module: nn.Module,
    layer: nn.Module | None,
    inputs: dict[str, torch.Tensor | None],
    method: str,
    target: int,
    input_name: str | None = None,
    options: dict[str, Any] | None = None,
) -> torch.Tensor:
    """Maps (batch, *spatial) in [0, 1] for a plain ``nn.Module`` taking ``forward(**inputs)``."""
    options = dict(options or {})
    name = input_name or spatial_input_name(inputs)
    spatial = tuple(inputs[name].shape[2:])
    if method == "gradcam":
        if layer is None:
            raise ValidationError("Grad-CAM needs a convolutional layer; this model has none.")
        return grad_cam(lambda: module(**inputs), layer, target, spatial)
    if method == "ig":
        return torch.cat([
            integrated_gradients(module, _one(inputs, i), name, target, **options)
            for i in range(inputs[name].shape[0])
        ])  # fmt: skip
    if method == "occlusion":
        return occlusion(module, inputs, name, target, **options)
    raise ValidationError(
        f"Unknown saliency method {method!r}; choose one of {', '.join(METHODS)}."
    )


def _one(inputs: dict[str, Any], index: int) -> dict[str, Any]:
    return {
        k: v[index : index + 1] if isinstance(v, torch.Tensor) else v for k, v in inputs.items()
    }


def offered_methods(model: Any) -> list[str]:
    """Saliency methods this loaded model offers: validated for it, and applicable."""
    methods = list(model.validated_saliency_methods)
    if "gradcam" in methods and model.gradcam_layer() is None:
        methods.remove("gradcam")
    return methods


def compute_saliency(
    model: Any,
    inputs: dict[str, Any],
    method: str,
    target: int | None = None,
    input_name: str | None = None,
    options: dict[str, Any] | None = None,
    require_validated: bool = True,
) -> np.ndarray:
    """Saliency of one input (batch of 1) for ``target`` (default: the top class).

    Returns a float32 map on the input grid (without batch and channel axes), in [0, 1].
    """
    from stethoscan.inference.runtime import to_tensors

    if require_validated and method not in offered_methods(model):
        offered = ", ".join(METHOD_TITLES[m] for m in offered_methods(model)) or "none"
        raise ValidationError(
            f"{METHOD_TITLES.get(method, method)} did not pass the sanity checks for "
            f"{model.name}, so it is not offered (offered: {offered})."
        )
    tensors = to_tensors(inputs, model.device)
    if target is None:
        target = int(np.argmax(model.logits(inputs)[0]))
    maps = saliency_maps(
        model.module, model.gradcam_layer(), tensors, method, target, input_name, options
    )
    return maps[0].float().cpu().numpy()

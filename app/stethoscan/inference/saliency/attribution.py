"""Integrated Gradients and occlusion through captum, for one named input of a model.

Both return positive evidence for the target class (attributions summed over channels, negative
parts set to zero), one map per batch item on the input grid, scaled to [0, 1].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import torch
from torch import nn

from stethoscan.inference.saliency.gradcam import normalize_maps


def _forward_for(module: nn.Module, inputs: dict[str, Any], input_name: str):
    others = {k: v for k, v in inputs.items() if k != input_name}

    def forward(x: torch.Tensor) -> torch.Tensor:
        # captum batches the explained input (steps, windows); repeat the others to match
        batch = x.shape[0]
        expanded = {k: _repeat_to(v, batch) for k, v in others.items()}
        return module(**{input_name: x}, **expanded)

    return forward


def _repeat_to(value: Any, batch: int) -> Any:
    if not isinstance(value, torch.Tensor) or value.shape[0] == batch:
        return value
    return value.repeat_interleave(batch // value.shape[0], dim=0)


def _positive_map(attribution: torch.Tensor) -> torch.Tensor:
    return normalize_maps(torch.relu(attribution.sum(dim=1)))


def integrated_gradients(
    module: nn.Module,
    inputs: dict[str, Any],
    input_name: str,
    target: int,
    n_steps: int = 32,
    internal_batch_size: int = 8,
    baseline: float = 0.0,
) -> torch.Tensor:
    """Integrated Gradients (Sundararajan et al. 2017) from a constant baseline, one sample."""
    from captum.attr import IntegratedGradients

    x = inputs[input_name]
    explainer = IntegratedGradients(_forward_for(module, inputs, input_name))
    with torch.inference_mode(False), torch.enable_grad():
        attribution = explainer.attribute(
            x.detach().clone(),
            baselines=baseline,
            target=target,
            n_steps=n_steps,
            internal_batch_size=internal_batch_size,
        )
    return _positive_map(attribution.detach())


def default_window(spatial_shape: Sequence[int], fractions: Sequence[float] | None = None) -> tuple:
    """Occlusion window: about 1/6 of each spatial axis (at least 2 voxels)."""
    fractions = fractions or [1 / 6] * len(spatial_shape)
    return tuple(max(2, int(round(n * f))) for n, f in zip(spatial_shape, fractions, strict=True))


def occlusion(
    module: nn.Module,
    inputs: dict[str, Any],
    input_name: str,
    target: int,
    window: Sequence[int] | None = None,
    stride: Sequence[int] | None = None,
    baseline: float = 0.0,
    perturbations_per_eval: int = 16,
) -> torch.Tensor:
    """Occlusion (Zeiler and Fergus 2014): score drop when a window is set to ``baseline``.

    ``window``/``stride`` are spatial sizes in samples: image patches (rows, cols), volume
    blocks (slices, rows, cols) or time-frequency windows on a spectrogram (bins, frames).
    """
    from captum.attr import Occlusion

    x = inputs[input_name]
    spatial = tuple(x.shape[2:])
    window = tuple(window or default_window(spatial))
    stride = tuple(stride or tuple(max(1, w // 2) for w in window))
    explainer = Occlusion(_forward_for(module, inputs, input_name))
    with torch.inference_mode(False), torch.no_grad():
        attribution = explainer.attribute(
            x.detach(),
            sliding_window_shapes=(x.shape[1], *window),
            strides=(x.shape[1], *stride),
            baselines=baseline,
            target=target,
            perturbations_per_eval=perturbations_per_eval,
        )
    return _positive_map(attribution)

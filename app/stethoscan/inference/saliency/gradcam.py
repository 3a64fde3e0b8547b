"""Grad-CAM (Selvaraju et al. 2017) for 2D and 3D convolutional models, with forward hooks.

The hooked layer's output is detached into a fresh leaf, so layers before it run without
recording a graph and the backward pass covers only the layers after it: less memory and time
than computing gradients from the input, and the same map.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn


def _as_targets(target: int | Sequence[int] | torch.Tensor, batch: int, device) -> torch.Tensor:
    targets = torch.as_tensor(target, device=device, dtype=torch.long).reshape(-1)
    return targets.expand(batch) if targets.numel() == 1 else targets


def layer_activation_and_gradient(
    forward: Callable[[], torch.Tensor], layer: nn.Module, target: Any
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``forward()`` and return the layer's output and d(target score)/d(output).

    Layers before ``layer`` run with autograd off; the hook switches it on, so only the layers
    after it are recorded (and later differentiated).
    """
    captured: dict[str, torch.Tensor] = {}

    def hook(_module: nn.Module, _inputs: Any, output: torch.Tensor) -> torch.Tensor:
        leaf = output.detach().requires_grad_(True)
        captured["activation"] = leaf
        torch.set_grad_enabled(True)
        return leaf.clone()  # later in-place ops must not touch the leaf

    handle = layer.register_forward_hook(hook)
    try:
        with torch.inference_mode(False), torch.no_grad():
            logits = forward()
        if "activation" not in captured:
            raise ValueError("the Grad-CAM layer was not used by the model's forward pass")
        with torch.enable_grad():
            targets = _as_targets(target, logits.shape[0], logits.device)
            score = logits.gather(1, targets.view(-1, 1)).sum()
            (gradient,) = torch.autograd.grad(score, captured["activation"])
    finally:
        handle.remove()
    return captured["activation"].detach(), gradient


def grad_cam(
    forward: Callable[[], torch.Tensor],
    layer: nn.Module,
    target: int | Sequence[int] | torch.Tensor,
    output_size: Sequence[int] | None = None,
) -> torch.Tensor:
    """Grad-CAM maps, shape (batch, *output_size), each scaled to [0, 1].

    Parameters
    ----------
    forward
        Runs the model on the prepared inputs and returns logits (batch, classes).
    layer
        The convolutional block to explain (its output has shape (batch, channels, *spatial)).
    target
        Class index, or one per batch item.
    output_size
        Spatial size of the input grid; the map is interpolated (bi/tri-linear) to it.
    """
    activation, gradient = layer_activation_and_gradient(forward, layer, target)
    spatial_dims = tuple(range(2, activation.ndim))
    weights = gradient.mean(dim=spatial_dims)  # (batch, channels)
    # weighted sum over channels as one batched matrix product, no (batch, C, ...) temporary
    cam = torch.bmm(weights.unsqueeze(1), activation.flatten(2)).view(
        activation.shape[0], 1, *activation.shape[2:]
    )
    cam.clamp_(min=0.0)
    if output_size is not None and tuple(cam.shape[2:]) != tuple(output_size):
        mode = {1: "linear", 2: "bilinear", 3: "trilinear"}[len(spatial_dims)]
        cam = F.interpolate(cam, size=tuple(output_size), mode=mode, align_corners=False)
    return normalize_maps(cam[:, 0])


def normalize_maps(maps: torch.Tensor) -> torch.Tensor:
    """Scale each map of a batch to [0, 1] in place (an all-zero map stays zero).

    One min/max pass (``torch.aminmax``) and two in-place passes: the maps are large after
    interpolation to a 128^3 volume.
    """
    flat = maps.reshape(maps.shape[0], -1)
    low, high = torch.aminmax(flat, dim=1, keepdim=True)
    low = low.clamp(max=0.0)
    flat.sub_(low).div_((high - low).clamp(min=1e-12))
    return flat.reshape(maps.shape)

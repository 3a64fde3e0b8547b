"""Figures for ``stethoscan bench inference``: forward and Grad-CAM times beside libraries.

Each case builds the small CNN, then times in the same run, on the same model and input:
forward (``torch.inference_mode``), our Grad-CAM, captum's ``LayerGradCam`` computing the same
map (interpolated to the input and scaled to [0, 1]), and pytorch-grad-cam's ``GradCAM`` when it
is installed. Times are medians of ``repeat`` runs after one warm-up, in ms. The 3D case also
reports the process's peak resident memory; run it in a fresh process (``python -m
stethoscan.inference.inference_benchmark volume``) so that figure is its own.
"""

from __future__ import annotations

import json
import os
import resource
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from stethoscan.inference.architectures import build_architecture
from stethoscan.inference.runtime import configure_threads
from stethoscan.inference.saliency.gradcam import grad_cam

TARGETS_MS = {
    "image2d": {"forward": 40.0, "gradcam": 150.0},
    "volume3d": {"forward": 500.0, "gradcam": 2000.0},
}
PEAK_MEMORY_TARGET_MB = 1500.0
# kind -> (architecture, params, input name, input shape); the 3D stem is strided, as a 3D CNN
# for 128^3 inputs usually is
CASES = {
    "image2d": ("small_cnn2d", {"n_classes": 2}, "image", (224, 224)),
    "volume3d": ("small_cnn3d", {"n_classes": 2, "stem_stride": 2}, "volume", (128, 128, 128)),
}


def median_ms(functions: dict[str, Callable[[], Any]], repeat: int) -> dict[str, float]:
    """Median wall time (ms) of each function over ``repeat`` rounds after one warm-up, its
    fastest run (``<name>_min_ms``: other processes only ever add time, so on a shared machine
    the minimum is the steadier figure) and its median CPU time (``<name>_cpu_ms``, all threads).

    The functions run in turn within each round, so a change in machine load during the
    measurement affects all of them alike, and the order rotates from round to round (whichever
    runs first after another kind of work pays for cold caches). CPU time is less sensitive to
    other processes.
    """
    wall: dict[str, list[float]] = {name: [] for name in functions}
    cpu: dict[str, list[float]] = {name: [] for name in functions}
    for fn in functions.values():
        fn()
    names = list(functions)
    for index in range(max(1, repeat)):
        shift = index % len(names)
        for name in names[shift:] + names[:shift]:
            fn = functions[name]
            start, start_cpu = time.perf_counter(), time.process_time()
            fn()
            wall[name].append(time.perf_counter() - start)
            cpu[name].append(time.process_time() - start_cpu)
    figures = {name: round(statistics.median(t) * 1000.0, 2) for name, t in wall.items()}
    for name in names:
        figures[name.replace("_ms", "_min_ms")] = round(min(wall[name]) * 1000.0, 2)
        figures[name.replace("_ms", "_cpu_ms")] = round(statistics.median(cpu[name]) * 1000.0, 2)
    return figures


def peak_rss_mb() -> float:
    """Peak resident memory of this process so far (MB)."""
    return round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0, 1)


def _captum_gradcam(model, layer, name: str, x: torch.Tensor, target: int) -> torch.Tensor:
    from captum.attr import LayerAttribution, LayerGradCam

    explainer = LayerGradCam(lambda t: model(**{name: t}), layer)
    cam = explainer.attribute(x, target=target, relu_attributions=True)
    mode = "trilinear" if x.ndim == 5 else "bilinear"
    cam = LayerAttribution.interpolate(cam, tuple(x.shape[2:]), mode)[:, 0].detach()
    return (cam - cam.min()) / (cam.max() - cam.min()).clamp(min=1e-12)  # as a user would write


class _KeywordWrapper(torch.nn.Module):
    """Positional-input wrapper for libraries that call ``model(x)``."""

    def __init__(self, model: torch.nn.Module, name: str) -> None:
        super().__init__()
        self.model = model
        self.name = name

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.model(**{self.name: x})


def _pytorch_grad_cam(model, layer, name: str, x: torch.Tensor, target: int):
    """pytorch-grad-cam's GradCAM (2D only: it resizes with OpenCV), or None if absent."""
    try:
        from pytorch_grad_cam import GradCAM
        from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
    except ImportError:
        return None
    cam = GradCAM(model=_KeywordWrapper(model, name), target_layers=[layer])
    targets = [ClassifierOutputTarget(target)]
    return lambda: cam(input_tensor=x, targets=targets)


def bench_case(kind: str, repeat: int) -> dict[str, Any]:
    """Forward and Grad-CAM (ours, captum, pytorch-grad-cam) for "image2d" or "volume3d"."""
    torch.manual_seed(0)
    arch_id, params, name, shape = CASES[kind]
    model = build_architecture(arch_id, params)
    x = torch.randn(1, 1, *shape)
    model.eval()
    for parameter in model.parameters():
        parameter.requires_grad_(False)  # as the runtime loads models
    layer = model.last_block
    target = 1

    def forward():
        with torch.inference_mode():
            return model(**{name: x})

    def ours():
        return grad_cam(lambda: model(**{name: x}), layer, target, tuple(x.shape[2:]))

    def captum():
        return _captum_gradcam(model, layer, name, x, target)

    library = _pytorch_grad_cam(model, layer, name, x, target) if kind == "image2d" else None
    functions = {"forward_ms": forward, "gradcam_ms": ours, "captum_layergradcam_ms": captum}
    if library is not None:
        functions["pytorch_grad_cam_ms"] = library
    figures: dict[str, Any] = {
        "architecture": arch_id,
        "params": params,
        "input_shape": list(x.shape[2:]),
        **median_ms(functions, repeat),
    }
    figures["gradcam_vs_captum_min_ratio"] = round(
        figures["gradcam_min_ms"] / figures["captum_layergradcam_min_ms"], 3
    )
    figures["gradcam_vs_captum_cpu_ratio"] = round(
        figures["gradcam_cpu_ms"] / figures["captum_layergradcam_cpu_ms"], 3
    )
    figures["gradcam_vs_captum_ratio"] = round(
        figures["gradcam_ms"] / figures["captum_layergradcam_ms"], 3
    )
    figures["max_abs_map_difference_vs_captum"] = float((ours() - captum()).abs().max())
    if library is not None:
        figures["gradcam_vs_pytorch_grad_cam_ratio"] = round(
            figures["gradcam_ms"] / figures["pytorch_grad_cam_ms"], 3
        )
        theirs = np.asarray(library())[0]
        figures["max_abs_map_difference_vs_pytorch_grad_cam"] = float(
            np.abs(ours()[0].numpy() - theirs).max()
        )
    else:
        figures["pytorch_grad_cam"] = "not installed" if kind == "image2d" else "2D only"
    targets = TARGETS_MS[kind]
    figures["target_forward_ms"] = targets["forward"]
    figures["target_gradcam_ms"] = targets["gradcam"]
    figures["meets_targets"] = (
        figures["forward_ms"] < targets["forward"]
        and figures["gradcam_ms"] < targets["gradcam"]
        and figures["gradcam_ms"] <= figures["captum_layergradcam_ms"]
    )
    return figures


def run_case_in_this_process(kind: str, repeat: int, threads: int = 0) -> dict[str, Any]:
    """One case with thread setup and, for volumes, the peak memory of this process.

    ``threads`` 0 = the physical core count. The load average is reported beside the
    figures: on a machine busy with other work the times are not representative.
    """
    threads = configure_threads(threads)
    rss_before = peak_rss_mb()
    load_before = os.getloadavg()[0]
    figures = bench_case(kind, repeat)
    figures["threads"] = threads
    figures["load_average_1min"] = [round(load_before, 2), round(os.getloadavg()[0], 2)]
    if kind == "volume3d":
        figures["peak_rss_mb"] = peak_rss_mb()
        figures["peak_rss_before_case_mb"] = rss_before
        figures["target_peak_rss_mb"] = PEAK_MEMORY_TARGET_MB
        figures["meets_targets"] = (
            figures["meets_targets"] and figures["peak_rss_mb"] < PEAK_MEMORY_TARGET_MB
        )
    return figures


def main(argv: list[str] | None = None) -> int:
    """``python -m stethoscan.inference.inference_benchmark KIND [REPEAT [THREADS]]``: JSON."""
    argv = list(sys.argv[1:] if argv is None else argv)
    kind = argv[0] if argv else "image2d"
    repeat = int(argv[1]) if len(argv) > 1 else 5
    threads = int(argv[2]) if len(argv) > 2 else 0
    print(json.dumps(run_case_in_this_process(kind, repeat, threads)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""``stethoscan bench inference [--json]``: model forward and Grad-CAM times beside libraries.

Each case runs in a fresh process (so the 3D peak memory is its own): a 2D CNN on 224 x 224
(targets: forward < 40 ms, Grad-CAM < 150 ms) and a 3D CNN on 128^3 (forward < 0.5 s,
Grad-CAM < 2 s, peak memory < 1.5 GB), our Grad-CAM beside captum's LayerGradCam (and
pytorch-grad-cam when installed) computing the same map on the same model in the same run.

Extra figures: a module ``stethoscan.workflows.mci_benchmark`` (if installed) may define
``BENCH_FUNCTIONS`` (callables returning a dict) or ``run_benchmark(task)``; their figures are
added under ``"extra"``.
"""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

EXTRA_BENCH_MODULES = ("stethoscan.workflows.mci_benchmark",)


def register(bench_subparsers: argparse._SubParsersAction) -> None:
    parser = bench_subparsers.add_parser(
        "inference", help="model forward and Grad-CAM (2D 224^2, 3D 128^3) against captum"
    )
    parser.add_argument("--json", action="store_true", help="print the figures as JSON")
    parser.add_argument("--repeat", type=int, default=15, help="rounds per measurement (median)")
    parser.add_argument("--threads", type=int, default=0, help="torch threads (0 = physical cores)")
    parser.add_argument("--no-extra", action="store_true", help="skip the MCI figures")
    parser.set_defaults(func=run)


def _case(kind: str, repeat: int, threads: int) -> dict[str, Any]:
    module = "stethoscan.inference.inference_benchmark"
    command = [sys.executable, "-m", module, kind, str(repeat), str(threads)]
    result = subprocess.run(command, capture_output=True, text=True, timeout=1800, check=False)
    if result.returncode != 0:
        return {"error": result.stderr.strip().splitlines()[-1] if result.stderr else "failed"}
    return json.loads(result.stdout.strip().splitlines()[-1])


def extra_bench_functions() -> list[tuple[str, Callable[[], dict[str, Any]]]]:
    """(name, function) pairs from the optional extra benchmark modules that are installed."""
    found = []
    for module_name in EXTRA_BENCH_MODULES:
        try:
            module = importlib.import_module(module_name)
        except ModuleNotFoundError as exc:
            if exc.name == module_name:
                continue
            raise
        functions = getattr(module, "BENCH_FUNCTIONS", None)
        if functions:
            found += [(f.__name__, f) for f in functions]
        elif hasattr(module, "run_benchmark"):
            found.append((module_name.rsplit(".", 1)[-1], module.run_benchmark))
    return found


def run(args: argparse.Namespace) -> int:
    figures: dict[str, Any] = {
        "image2d": _case("image2d", args.repeat, args.threads),
        "volume3d": _case("volume3d", max(1, args.repeat // 3), args.threads),
    }
    if not args.no_extra:
        figures["extra"] = {name: fn() for name, fn in extra_bench_functions()}
    if args.json:
        print(json.dumps(figures, indent=2))
    else:
        print(_text(figures))
    return 0


def _text(figures: dict[str, Any]) -> str:
    lines = []
    for kind in ("image2d", "volume3d"):
        case = figures[kind]
        if "error" in case:
            lines.append(f"{kind}: failed ({case['error']})")
            continue
        lines.append(
            f"{kind} {case['input_shape']}: forward {case['forward_ms']} ms "
            f"(target < {case['target_forward_ms']:.0f}), Grad-CAM {case['gradcam_ms']} ms "
            f"(target < {case['target_gradcam_ms']:.0f}); captum LayerGradCam "
            f"{case['captum_layergradcam_ms']} ms (ratio of medians "
            f"{case['gradcam_vs_captum_ratio']}, of fastest runs {case['gradcam_vs_captum_min_ratio']},"
            f" of CPU times {case['gradcam_vs_captum_cpu_ratio']})"
        )
        if "pytorch_grad_cam_ms" in case:
            lines.append(f"  pytorch-grad-cam {case['pytorch_grad_cam_ms']} ms "
                         f"(ratio {case['gradcam_vs_pytorch_grad_cam_ratio']})")  # fmt: skip
        if "peak_rss_mb" in case:
            lines.append(f"  peak memory {case['peak_rss_mb']} MB (target < 1500)")
        lines.append(f"  threads {case['threads']}, load average {case['load_average_1min']}")
    for name, extra in figures.get("extra", {}).items():
        lines.append(f"{name}: {json.dumps(extra)}")
    return "\n".join(lines)

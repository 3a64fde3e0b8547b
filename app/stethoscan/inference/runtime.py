"""Run verified models: device choice, CPU threads, a model cache and calibrated probabilities.

``load_model(name_or_path)`` verifies the package (every check, audit-logged), builds its
architecture from our code, loads the safetensors weights and caches the result, so a model is
loaded once per device. ``LoadedModel.predict_proba(inputs)`` runs under
``torch.inference_mode`` and applies the package's temperature scaling.
"""

from __future__ import annotations

import logging
import os
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from stethoscan.core.errors import ModelPackageError
from stethoscan.inference.architectures import build_architecture, gradcam_target
from stethoscan.inference.package_loader import VerifiedPackage, load_state_dict, verify_package
from stethoscan.inference.package_manifest import Manifest

_log = logging.getLogger(__name__)
_cache: dict[tuple[str, str], LoadedModel] = {}
_cache_lock = threading.Lock()
_threads_configured = False


# --- device and threads -------------------------------------------------------------------------
def physical_core_count() -> int:
    """Physical CPU cores available to this process (hyper-threads not counted)."""
    available = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    cores: set[tuple[str, str]] = set()
    try:
        physical = core = ""
        with open("/proc/cpuinfo", encoding="utf-8") as handle:
            for line in handle:
                key, _, value = line.partition(":")
                key, value = key.strip(), value.strip()
                if key == "physical id":
                    physical = value
                elif key == "core id":
                    core = value
                    cores.add((physical, core))
    except OSError:
        pass
    count = len(cores) or (os.cpu_count() or 1)
    return max(1, min(count, available or 1))


def configure_threads(cpu_threads: int = 0) -> int:
    """Set torch's intra-op threads: the setting if > 0, else the physical core count."""
    global _threads_configured
    count = cpu_threads if cpu_threads > 0 else physical_core_count()
    torch.set_num_threads(count)
    _threads_configured = True
    return count


def select_device(preference: str = "auto") -> torch.device:
    """``auto``: CUDA if present, else Apple MPS, else CPU. A forced device that is absent
    falls back to the CPU with a log warning."""
    mps = getattr(torch.backends, "mps", None)
    has_mps = bool(mps is not None and mps.is_available())
    if preference in ("auto", "cuda") and torch.cuda.is_available():
        return torch.device("cuda")
    if preference in ("auto", "mps") and has_mps:
        return torch.device("mps")
    if preference not in ("auto", "cpu"):
        _log.warning("Inference device %s is not available; using the CPU", preference)
    return torch.device("cpu")


def device_from_settings() -> torch.device:
    """Device and thread count from the user's settings (``settings.inference``)."""
    from stethoscan.core.settings import load_settings

    settings = load_settings().inference
    if not _threads_configured:
        configure_threads(settings.cpu_threads)
    return select_device(settings.device)


# --- loaded models ------------------------------------------------------------------------------
def to_tensors(inputs: dict[str, Any], device: torch.device) -> dict[str, torch.Tensor | None]:
    """numpy inputs -> tensors on ``device`` (float32; bool and integer kinds kept); None kept."""
    tensors: dict[str, torch.Tensor | None] = {}
    for name, value in inputs.items():
        if value is None:
            tensors[name] = None
            continue
        array = np.asarray(value)
        if array.dtype.kind == "f":
            array = array.astype(np.float32, copy=False)
        elif array.dtype.kind in "iu":
            array = array.astype(np.int64, copy=False)
        tensors[name] = torch.from_numpy(np.ascontiguousarray(array)).to(device)
    return tensors


@dataclass
class LoadedModel:
    """A verified package with its model on a device, in eval mode."""

    package: VerifiedPackage
    module: torch.nn.Module
    device: torch.device

    @property
    def manifest(self) -> Manifest:
        return self.package.manifest

    @property
    def name(self) -> str:
        return self.manifest.model.name

    @property
    def temperature(self) -> float:
        return float(self.manifest.calibration.temperature)

    @property
    def validated_saliency_methods(self) -> list[str]:
        return list(self.manifest.saliency.validated_methods)

    def gradcam_layer(self) -> torch.nn.Module | None:
        return gradcam_target(self.manifest.architecture.id, self.module)

    def logits(self, inputs: dict[str, Any]) -> np.ndarray:
        """Raw model outputs, shape (batch, labels). Inputs carry the batch dimension."""
        with torch.inference_mode():
            out = self.module(**to_tensors(inputs, self.device))
        return out.float().cpu().numpy()

    def calibrate(self, logits: np.ndarray) -> np.ndarray:
        """Temperature-scaled probabilities: softmax (or per-label sigmoid) of logits / T."""
        scaled = np.asarray(logits, dtype=np.float64) / self.temperature
        if self.manifest.model.multi_label:
            return 1.0 / (1.0 + np.exp(-scaled))
        scaled = scaled - scaled.max(axis=-1, keepdims=True)
        exp = np.exp(scaled)
        return exp / exp.sum(axis=-1, keepdims=True)

    def predict_proba(self, inputs: dict[str, Any]) -> np.ndarray:
        """Calibrated probabilities, shape (batch, labels), in the manifest's label order."""
        return self.calibrate(self.logits(inputs))


def build_model(package: VerifiedPackage, device: torch.device) -> LoadedModel:
    """Architecture from our allow-list, weights from the verified safetensors, eval mode."""
    manifest = package.manifest
    module = build_architecture(manifest.architecture.id, manifest.architecture.params)
    state = load_state_dict(package)
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise ModelPackageError(
            f"The weights do not fit architecture {manifest.architecture.id!r} ({exc}); "
            "the package is refused.",
            check="shape",
        ) from exc
    module.eval().to(device)
    for parameter in module.parameters():
        parameter.requires_grad_(False)
    return LoadedModel(package, module, device)


def resolve_package_path(name_or_path: str | Path) -> Path:
    """A path as given, or the folder of an installed/bundled package of that name."""
    candidate = Path(name_or_path)
    if candidate.exists():
        return candidate
    from stethoscan.inference.registry import find_package

    return find_package(str(name_or_path)).path


def load_model(name_or_path: str | Path, device: str | torch.device | None = None) -> LoadedModel:
    """Verify, build and cache a model (loaded once per package folder and device)."""
    path = resolve_package_path(name_or_path).resolve()
    target = device_from_settings() if device is None else torch.device(device)
    key = (str(path), str(target))
    with _cache_lock:
        cached = _cache.get(key)
        if cached is not None:
            return cached
        package = verify_package(path, deep=True, action="load")
        model = build_model(package, target)
        _cache[key] = model
        return model


def clear_model_cache() -> None:
    """Forget every loaded model (after a package was removed or replaced)."""
    with _cache_lock:
        _cache.clear()

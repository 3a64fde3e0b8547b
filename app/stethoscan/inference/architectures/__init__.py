"""The allow-list of model architectures a package may name (``[architecture] id``).

A package never brings code: its weights are loaded into one of these classes, defined here.
Each module exposes ``build(params: dict) -> nn.Module`` and ``gradcam_target(model) ->
nn.Module | None`` (the convolution layer Grad-CAM explains, or None). Models take keyword
inputs, ``forward(**inputs)``, with named tensors (``image``, ``volume``, ``spectrogram``,
``visits``, ``visit_mask``, ``static``); optional inputs that are absent are passed as None.
Modules are imported lazily, so importing this package does not load torch.
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from stethoscan.core.errors import ModelPackageError

ARCHITECTURE_MODULES: dict[str, str] = {
    "small_cnn2d": "stethoscan.inference.architectures.small_cnn2d",
    "small_cnn3d": "stethoscan.inference.architectures.small_cnn3d",
    "small_spectrogram_cnn": "stethoscan.inference.architectures.small_spectrogram_cnn",
    "resp_cnn": "stethoscan.inference.architectures.respiratory_cnn",
    "resp_crnn": "stethoscan.inference.architectures.respiratory_crnn",
    "mci_fusion": "stethoscan.inference.architectures.mci_fusion",
}


def architecture_module(arch_id: str) -> ModuleType:
    """The module that defines ``arch_id``; refused when the id is not on the allow-list."""
    module_name = ARCHITECTURE_MODULES.get(arch_id)
    if module_name is None:
        raise ModelPackageError(
            f"The package asks for architecture {arch_id!r}, which this version of Stethoscan "
            f"does not define (known: {', '.join(sorted(ARCHITECTURE_MODULES))}). The package is "
            "refused; update Stethoscan or ask for a package built for this version.",
            check="architecture",
        )
    try:
        return importlib.import_module(module_name)
    except ModuleNotFoundError as exc:
        if exc.name != module_name:
            raise
        raise ModelPackageError(
            f"Architecture {arch_id!r} is on the allow-list but its code is not installed; "
            "the package is refused. Reinstall Stethoscan.",
            check="architecture",
        ) from exc


def build_architecture(arch_id: str, params: dict[str, Any]):
    """Build the untrained ``nn.Module`` for ``arch_id`` with the manifest's ``params``."""
    module = architecture_module(arch_id)
    try:
        return module.build(dict(params))
    except (TypeError, ValueError, KeyError) as exc:
        raise ModelPackageError(
            f"The architecture parameters of the package do not fit {arch_id!r} ({exc}); "
            "the package is refused.",
            check="architecture",
        ) from exc


def gradcam_target(arch_id: str, model: Any):
    """The layer Grad-CAM explains for this architecture, or None when it has none."""
    module = architecture_module(arch_id)
    finder = getattr(module, "gradcam_target", None)
    return finder(model) if finder is not None else None

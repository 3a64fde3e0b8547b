"""Helpers for the inference tests: a tiny valid package written with the real writer."""

from __future__ import annotations

from pathlib import Path
from typing import Any


def demo_manifest(name: str = "demo-2d", arch: str = "small_cnn2d", **params: Any) -> dict:
    params = {"n_classes": 2, "widths": [4, 8], **params}
    return {
        "schema_version": 1,
        "model": {
            "name": name, "version": "1.0.0", "task": "lesion_detection",
            "pipeline": "generic_image2d", "input_modalities": ["scan"], "licence": "MIT",
            "intended_use": "tests", "training_data": "synthetic phantoms",
            "summary": "A test model.", "synthetic_training_data": True,
        },
        "architecture": {"id": arch, "params": params},
        "input": {"scan": {"modalities": ["MR"], "dimensions": 2, "target_shape": [32, 32]}},
        "outputs": [
            {"label": "normal", "description": "no lesion"},
            {"label": "lesion", "description": "a bright round lesion"},
        ],
        "calibration": {"temperature": 1.5, "method": "fixed for tests"},
    }  # fmt: skip


def write_demo_package(folder: Path, name: str = "demo-2d", state_dict=None, **kw) -> Path:
    import torch

    from stethoscan.inference.architectures import build_architecture
    from stethoscan.inference.package_writer import write_package

    manifest = demo_manifest(name, **kw)
    torch.manual_seed(0)
    model = build_architecture(manifest["architecture"]["id"], manifest["architecture"]["params"])
    return write_package(folder, manifest, state_dict or model.state_dict(), "# Demo\nA card.")

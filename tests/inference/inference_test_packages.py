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


def _base_model(name: str, pipeline: str, modalities: list[str]) -> dict:
    return {
        "name": name, "version": "0.1.0", "task": "demo", "pipeline": pipeline,
        "input_modalities": modalities, "licence": "MIT", "intended_use": "tests only",
        "training_data": "none (untrained weights)", "summary": "An untrained test model.",
        "synthetic_training_data": True,
    }  # fmt: skip


def write_volume_package(folder: Path, name: str = "demo-volume", methods=("gradcam",)) -> Path:
    """A generic_volume package (MR brain, 1.5 mm, 64^3) with untrained small_cnn3d weights."""
    import torch

    from stethoscan.inference.architectures import build_architecture
    from stethoscan.inference.package_writer import write_package

    params = {"n_classes": 2, "widths": [4, 8]}
    manifest = {
        "schema_version": 1,
        "model": _base_model(name, "generic_volume", ["scan"]),
        "architecture": {"id": "small_cnn3d", "params": params},
        "input": {"scan": {"modalities": ["MR"], "dimensions": 3, "target_spacing_mm": [3.0] * 3,
                           "target_shape": [48, 64, 64], "normalization": "zscore_brain",
                           "min_slices": 20, "body_parts": ["HEAD", "BRAIN"]}},
        "outputs": [{"label": "normal", "description": "nothing unusual"},
                    {"label": "finding", "description": "something to look at"}],
        "calibration": {"temperature": 1.0, "method": "none"},
        "saliency": {"validated_methods": list(methods)},
    }  # fmt: skip
    torch.manual_seed(0)
    model = build_architecture("small_cnn3d", params)
    return write_package(folder, manifest, model.state_dict(), "# Demo volume model\n")


def write_audio_package(folder: Path, name: str = "demo-audio", methods=("gradcam", "occlusion")
                        ) -> Path:  # fmt: skip
    """A generic_audio package (4 kHz, 2.5 s segments, 32 log-mel bins), untrained weights."""
    import torch

    from stethoscan.inference.architectures import build_architecture
    from stethoscan.inference.package_writer import write_package

    params = {"n_classes": 3, "widths": [8, 16]}
    manifest = {
        "schema_version": 1,
        "model": _base_model(name, "generic_audio", ["audio"]),
        "architecture": {"id": "small_spectrogram_cnn", "params": params},
        "input": {"audio": {"sample_rate_hz": 4000, "segment_s": 2.5, "min_duration_s": 1.0,
                            "min_sample_rate_hz": 2000, "feature": "log_mel",
                            "feature_params": {"n_mels": 32, "n_fft": 256, "hop_length": 64,
                                               "fmin": 50, "fmax": 2000}}},
        "outputs": [{"label": "normal", "description": "normal breath sounds"},
                    {"label": "crackle", "description": "short explosive sounds"},
                    {"label": "wheeze", "description": "continuous musical sound"}],
        "calibration": {"temperature": 1.3, "method": "fixed"},
        "saliency": {"validated_methods": list(methods)},
    }  # fmt: skip
    torch.manual_seed(0)
    model = build_architecture("small_spectrogram_cnn", params)
    return write_package(folder, manifest, model.state_dict(), "# Demo audio model\n")

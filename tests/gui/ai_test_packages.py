"""Tiny model packages for the GUI tests, written with the real package writer.

Weights are random (seeded): the tests check the panels, not the models' accuracy. Each package
declares its validated saliency methods itself, as a trained package's sanity checks would.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[2]

_MODEL = {"licence": "MIT", "intended_use": "GUI tests only.", "research_use_only": True,
          "synthetic_training_data": True}  # fmt: skip


def _write(folder: Path, manifest: dict[str, Any], card: str) -> Path:
    import torch

    from stethoscan.inference.architectures import build_architecture
    from stethoscan.inference.package_writer import write_package

    torch.manual_seed(0)
    model = build_architecture(manifest["architecture"]["id"], manifest["architecture"]["params"])
    return write_package(folder, manifest, model.state_dict(), card)


def image2d_manifest(name: str = "gui-lesion-2d") -> dict[str, Any]:
    return {
        "schema_version": 1,
        "model": {"name": name, "version": "0.1.0", "task": "lesion_detection",
                  "pipeline": "generic_image2d", "input_modalities": ["scan"],
                  "training_data": "synthetic phantoms", "summary": "Finds a bright lesion.",
                  **_MODEL},
        "architecture": {"id": "small_cnn2d", "params": {"n_classes": 2, "widths": [4, 8]}},
        "input": {"scan": {"modalities": ["MR", "CT"], "dimensions": 2, "target_shape": [32, 32],
                           "normalization": "zscore"}},
        "outputs": [{"label": "normal", "description": "no lesion seen"},
                    {"label": "lesion", "description": "a bright round lesion"}],
        "calibration": {"temperature": 1.5, "method": "fixed for tests"},
        "saliency": {"validated_methods": ["gradcam", "occlusion"]},
    }  # fmt: skip


def volume3d_manifest(name: str = "gui-lesion-3d") -> dict[str, Any]:
    manifest = image2d_manifest(name)
    manifest["model"]["pipeline"] = "generic_volume"
    manifest["model"]["summary"] = "Finds a bright lesion in a volume."
    manifest["architecture"] = {"id": "small_cnn3d", "params": {"n_classes": 2, "widths": [4, 8]}}
    manifest["input"] = {"scan": {"modalities": ["MR"], "dimensions": 3, "target_shape": [16, 32, 32],
                                  "normalization": "zscore", "min_slices": 8}}
    manifest["saliency"] = {"validated_methods": ["gradcam"]}
    return manifest


def mci_manifest(name: str = "gui-mci-fusion") -> dict[str, Any]:
    """Same inputs and labels as the bundled mci-fusion package, with a tiny network."""
    from stethoscan.imaging.brain_preprocessing import MIN_SLICES, TARGET_SHAPE, TARGET_SPACING_MM
    from stethoscan.training.mci_cohort import CLASS_DESCRIPTIONS, CLASSES

    return {
        "schema_version": 1,
        "model": {"name": name, "version": "0.1.0", "task": "mci_classification",
                  "pipeline": "mci_fusion", "input_modalities": ["scan", "clinical_scores"],
                  "training_data": "synthetic brains and score histories",
                  "summary": "CN / MCI / dementia from a T1 brain MRI and MMSE/MoCA history.",
                  **_MODEL},
        "architecture": {"id": "mci_fusion", "params": {"widths": [4, 4, 8, 8], "hidden": 8,
                                                         "embed": 8, "n_classes": 3}},
        "input": {
            "scan": {"modalities": ["MR"], "dimensions": 3,
                     "target_spacing_mm": [TARGET_SPACING_MM] * 3,
                     "target_shape": list(TARGET_SHAPE), "normalization": "zscore_brain",
                     "min_slices": MIN_SLICES, "body_parts": ["HEAD", "BRAIN"]},
            "clinical_scores": {"fields": ["mmse", "moca", "age_years", "sex", "education_years"],
                                "max_visits": 6},
        },
        "outputs": [{"label": c, "description": d}
                    for c, d in zip(CLASSES, CLASS_DESCRIPTIONS, strict=True)],
        "calibration": {"temperature": 1.2, "method": "fixed for tests"},
        "saliency": {"validated_methods": ["gradcam"]},
    }  # fmt: skip


def respiratory_manifest(name: str = "gui-respiratory") -> dict[str, Any]:
    """Same inputs and labels as the bundled respiratory-cycles package, tiny network."""
    from stethoscan.training.respiratory_features import PatchSpec
    from stethoscan.training.respiratory_synthesis import LABEL_DESCRIPTIONS, LABELS

    spec = PatchSpec()
    return {
        "schema_version": 1,
        "model": {"name": name, "version": "0.1.0", "task": "respiratory_cycle_classification",
                  "pipeline": "respiratory_cycles", "input_modalities": ["audio"],
                  "training_data": "synthetic chest recordings",
                  "summary": "Crackles and wheezes per breathing cycle.", **_MODEL},
        "architecture": {"id": "resp_cnn", "params": {"n_classes": 4, "widths": [4, 8, 8, 8]}},
        "input": {"audio": {"sample_rate_hz": spec.rate_hz, "segment_s": spec.segment_s,
                            "min_duration_s": 1.0, "feature": "log_mel",
                            "feature_params": spec.feature_params}},
        "outputs": [{"label": lab, "description": d}
                    for lab, d in zip(LABELS, LABEL_DESCRIPTIONS, strict=True)],
        "calibration": {"temperature": 1.0, "method": "fixed for tests"},
        "saliency": {"validated_methods": ["gradcam", "occlusion"]},
    }  # fmt: skip


CARD = """# {name}

A tiny package made by the GUI tests.

| metric | value |
|---|---|
| balanced accuracy | n/a (random weights) |

**Not for diagnostic use.** Trained on synthetic data.
"""


def write_test_package(folder: Path, manifest: dict[str, Any]) -> Path:
    return _write(folder, manifest, CARD.format(name=manifest["model"]["name"]))


def install_test_package(tmp_path: Path, manifest: dict[str, Any]):
    """Write the package and install it into the user models folder (replacing an older one)."""
    from stethoscan.inference import registry

    folder = write_test_package(tmp_path / manifest["model"]["name"], manifest)
    return registry.install(folder, replace=True)


def bundled_or_test(tmp_path: Path, bundled: str, manifest: dict[str, Any]) -> str:
    """The bundled package's name once it is committed under ``models/``, else a test package."""

    if (REPO / "models" / bundled / "manifest.toml").is_file():
        return bundled
    return install_test_package(tmp_path, manifest).name


# -- data in front of the clinician -----------------------------------------------------------
def mr_volume(shape: tuple[int, int, int] = (12, 48, 40), uid: str = "1.2.826.0.1.77"):
    """A small MR volume (stored values, no DICOM I/O) with a bright round blob."""
    import numpy as np

    from stethoscan.imaging.volume import Volume

    k, j, i = np.indices(shape)
    blob = ((k - shape[0] / 2) ** 2 / 9 + (j - 20) ** 2 + (i - 14) ** 2) < 36
    voxels = (100 + 600 * blob + np.random.default_rng(0).normal(0, 5, shape)).astype(np.int16)
    return Volume(voxels=voxels, spacing_mm=(3.0, 1.0, 1.0), modality="MR", series_uid=uid)


def mr_series(volume, description: str = "T1 test"):
    from stethoscan.imaging.model import SeriesInfo

    return SeriesInfo(series_uid=volume.series_uid, study_uid="1.2.3", modality="MR",
                      description=description, rows=volume.shape[1], columns=volume.shape[2])


def user_package_names() -> set[str]:
    from stethoscan.inference import registry

    return {e.name for e in registry.list_packages() if e.source == "user"}


def remove_packages_installed_since(before: set[str]) -> None:
    """Uninstall the user packages a test module added (the test session shares one home)."""
    from stethoscan.inference import registry

    for name in user_package_names() - before:
        registry.remove(name)

"""``stethoscan predict``: scans and recordings end to end, with refusals and saliency files."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf
from inference_test_packages import write_audio_package, write_volume_package

from stethoscan.cli import main
from stethoscan.inference import registry

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _ct_package(folder):
    import torch

    from stethoscan.inference.architectures import build_architecture
    from stethoscan.inference.package_writer import write_package

    params = {"n_classes": 2, "widths": [8, 16]}
    manifest = {
        "schema_version": 1,
        "model": {"name": "demo-ct", "version": "0.1.0", "task": "demo",
                  "pipeline": "generic_image2d", "input_modalities": ["scan"], "licence": "MIT",
                  "intended_use": "tests", "training_data": "none", "summary": "Untrained.",
                  "research_use_only": False},
        "architecture": {"id": "small_cnn2d", "params": params},
        "input": {"scan": {"modalities": ["CT"], "dimensions": 2, "target_shape": [64, 64],
                           "normalization": "ct_window",
                           "normalization_params": {"center": 40, "width": 400}}},
        "outputs": [{"label": "a", "description": "first"}, {"label": "b", "description": "second"}],
        "saliency": {"validated_methods": ["gradcam", "occlusion"]},
    }  # fmt: skip
    torch.manual_seed(1)
    return write_package(
        folder, manifest, build_architecture("small_cnn2d", params).state_dict(), "#"
    )


@pytest.fixture
def installed(tmp_path, model_dirs):
    for folder in (write_volume_package(tmp_path / "v"), write_audio_package(tmp_path / "a"),
                   _ct_package(tmp_path / "ct")):  # fmt: skip
        registry.install(folder)


def _wav(path, seconds: float, rate: int = 8000) -> str:
    t = np.arange(int(seconds * rate)) / rate
    tone = 0.3 * np.sin(2 * np.pi * 400 * t) * (t > seconds / 2)
    noise = np.random.default_rng(0).normal(0, 0.02, t.size)
    sf.write(path, (tone + noise).astype(np.float32), rate)
    return str(path)


def test_recording_with_saliency_writes_json_png_npy(installed, tmp_path, capsys):
    out = tmp_path / "out"
    wav = _wav(tmp_path / "breath.wav", 6.0)
    assert main(["predict", "--model", "demo-audio", wav, "--saliency", "occlusion",
                 "--json", "--out", str(out)]) == 0  # fmt: skip
    printed = json.loads(capsys.readouterr().out)
    saved = json.loads((out / "prediction.json").read_text())
    assert printed == saved
    assert saved["disclaimer"] == "Not for diagnostic use" and saved["synthetic_training_data"]
    assert abs(sum(saved["probabilities"]) - 1) < 1e-6
    assert saved["top_label"] in ("normal", "crackle", "wheeze")
    assert saved["saliency_space"] == "spectrogram" and saved["saliency_regions"]
    assert " s, " in saved["saliency_regions"][0] and saved["saliency_regions"][0].endswith("Hz")
    assert "upsampled" not in " ".join(saved["warnings"])  # 8 kHz down to 4 kHz is fine
    saliency = np.load(out / "saliency.npy")
    assert list(saliency.shape) == saved["saliency_shape"] and saliency.shape[0] == 32
    assert (out / "saliency.png").read_bytes()[:8] == PNG_MAGIC
    assert len(saved["details"]["segments"]) == 4  # 6 s in 2.5 s segments, hop 1.25 s


def test_too_short_recording_is_refused(installed, tmp_path, capsys):
    assert main(["predict", "--model", "demo-audio", _wav(tmp_path / "s.wav", 0.5)]) == 1
    assert "needs at least 1.0 s" in capsys.readouterr().err


def test_low_rate_recording_is_refused_and_missing_band_warned(installed, tmp_path, capsys):
    assert main(["predict", "--model", "demo-audio", _wav(tmp_path / "r.wav", 3, 1000)]) == 1
    assert "at least 2000 Hz" in capsys.readouterr().err
    assert (
        main(["predict", "--model", "demo-audio", _wav(tmp_path / "q.wav", 3, 3000), "--json"]) == 0
    )
    warnings = json.loads(capsys.readouterr().out)["warnings"]
    assert any("no sound above 1500 Hz" in w for w in warnings)


def test_unvalidated_saliency_method_is_refused(installed, tmp_path, capsys):
    wav = _wav(tmp_path / "b.wav", 3.0)
    assert main(["predict", "--model", "demo-audio", wav, "--saliency", "ig"]) == 1
    assert "did not pass the sanity checks" in capsys.readouterr().err


def test_ct_slice_with_2d_model(installed, tmp_path, capsys):
    from pydicom.data import get_testdata_file

    ct = get_testdata_file("CT_small.dcm")
    out = tmp_path / "ct"
    assert (
        main(["predict", "--model", "demo-ct", ct, "--saliency", "gradcam", "--out", str(out)]) == 0
    )
    text = capsys.readouterr().out
    assert "Not for diagnostic use" not in text  # this package is not research-only
    saved = json.loads((out / "prediction.json").read_text())
    assert saved["saliency_space"] == "image" and saved["saliency_shape"] == [128, 128]
    assert "of the image, rows" in saved["saliency_regions"][0]


def test_wrong_modality_is_refused(installed, capsys):
    from pydicom.data import get_testdata_file

    assert main(["predict", "--model", "demo-volume", get_testdata_file("CT_small.dcm")]) == 1
    assert "made for MR scans, but this series is CT" in capsys.readouterr().err


@pytest.mark.real_data
@pytest.mark.slow
def test_real_brain_mri_end_to_end(installed, shared_data, tmp_path, capsys):
    out = tmp_path / "brain"
    series = shared_data / "brain-t1-dicom"
    assert main(["predict", "--model", "demo-volume", str(series), "--saliency", "gradcam",
                 "--out", str(out), "--json"]) == 0  # fmt: skip
    saved = json.loads(capsys.readouterr().out)
    saliency = np.load(out / "saliency.npy", mmap_mode="r")
    assert saliency.shape == (384, 384, 274)  # the original series grid, for the viewer
    assert saved["saliency_space"] == "volume" and saved["saliency_regions"][0].startswith(
        "slices "
    )
    assert saved["disclaimer"] == "Not for diagnostic use"
    assert (out / "saliency.png").read_bytes()[:8] == PNG_MAGIC


@pytest.mark.real_data
def test_real_icbhi_recording_end_to_end(installed, shared_data, tmp_path, capsys):
    wav = shared_data / "icbhi-sample" / "103_2b2_Ar_mc_LittC2SE.wav"
    assert main(["predict", "--model", "demo-audio", str(wav), "--saliency", "gradcam",
                 "--json"]) == 0  # fmt: skip
    saved = json.loads(capsys.readouterr().out)
    assert saved["saliency_regions"] and saved["inputs_used"] == ["audio"]

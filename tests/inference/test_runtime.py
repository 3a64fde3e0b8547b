"""Runtime: device choice, threads, cached loading, calibrated probabilities."""

from __future__ import annotations

import json
import tomllib

import numpy as np
import pytest
import tomli_w
import torch
from inference_test_packages import write_demo_package

from stethoscan.core.errors import ModelPackageError
from stethoscan.inference import runtime
from stethoscan.inference.package_loader import audit_log_path, load_state_dict, verify_package


def test_auto_prefers_cuda_when_present(monkeypatch):
    # No GPU on this machine: CUDA presence is simulated; the real path runs on a user's GPU.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: True)
    assert runtime.select_device("auto").type == "cuda"
    assert runtime.select_device("cpu").type == "cpu"


def test_auto_uses_mps_then_cpu(monkeypatch):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: True)
    assert runtime.select_device("auto").type == "mps"
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: False)
    assert runtime.select_device("auto").type == "cpu"


def test_forced_device_that_is_absent_falls_back_to_cpu(monkeypatch, caplog):
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert runtime.select_device("cuda").type == "cpu"
    assert "not available" in caplog.text


def test_threads_follow_setting_or_physical_cores():
    before = torch.get_num_threads()
    try:
        assert runtime.configure_threads(1) == 1 and torch.get_num_threads() == 1
        cores = runtime.physical_core_count()
        assert 1 <= cores <= (torch.multiprocessing.cpu_count() or 1)
        assert runtime.configure_threads(0) == cores
    finally:
        torch.set_num_threads(before)


def test_predict_proba_applies_temperature(demo_package, model_dirs):
    model = runtime.load_model(demo_package, device="cpu")
    x = np.random.default_rng(0).normal(size=(3, 1, 32, 32)).astype(np.float32)
    probs = model.predict_proba({"image": x})
    with torch.no_grad():
        logits = model.module(image=torch.from_numpy(x))
    expected = torch.softmax(logits / 1.5, dim=1).numpy()
    np.testing.assert_allclose(probs, expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-6)
    assert not np.allclose(probs, torch.softmax(logits, dim=1).numpy(), atol=1e-4)


def test_multi_label_uses_sigmoid(tmp_path, model_dirs):
    folder = write_demo_package(tmp_path / "ml")
    manifest = tomllib.loads((folder / "manifest.toml").read_text())
    manifest["model"]["multi_label"] = True
    (folder / "manifest.toml").write_bytes(tomli_w.dumps(manifest).encode())
    model = runtime.load_model(folder, device="cpu")
    logits = np.array([[2.0, -1.0]])
    np.testing.assert_allclose(model.calibrate(logits), 1 / (1 + np.exp(-logits / 1.5)))


def test_model_is_loaded_once_and_audited(demo_package, model_dirs):
    lines_before = (
        len(audit_log_path().read_text().splitlines()) if audit_log_path().exists() else 0
    )
    first = runtime.load_model(demo_package, device="cpu")
    second = runtime.load_model(demo_package, device="cpu")
    assert first is second
    lines = audit_log_path().read_text().splitlines()[lines_before:]
    assert len(lines) == 1 and json.loads(lines[0])["action"] == "load"
    assert not any(p.requires_grad for p in first.module.parameters())
    assert not first.module.training


def test_weights_changed_after_verification_are_refused(demo_package):
    verified = verify_package(demo_package)
    weights = demo_package / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-1] ^= 0x10
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelPackageError) as info:
        load_state_dict(verified)
    assert info.value.check == "sha256"


def test_inputs_become_tensors_with_their_kinds():
    tensors = runtime.to_tensors(
        {"a": np.ones((1, 2), np.float64), "m": np.array([[True]]), "i": np.array([3]), "n": None},
        torch.device("cpu"),
    )
    assert tensors["a"].dtype == torch.float32 and tensors["m"].dtype == torch.bool
    assert tensors["i"].dtype == torch.int64 and tensors["n"] is None

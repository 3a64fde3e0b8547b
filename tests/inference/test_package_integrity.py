"""A tampered or unsafe package is refused, each time naming the check that failed."""

from __future__ import annotations

import json
import pickle
import tomllib
import zipfile
from pathlib import Path

import numpy as np
import pytest
import tomli_w
import torch
from inference_test_packages import demo_manifest, write_demo_package

from stethoscan.core import paths
from stethoscan.core.errors import ModelPackageError
from stethoscan.inference.architectures import build_architecture
from stethoscan.inference.package_content_checks import sha256_file
from stethoscan.inference.package_loader import audit_log_path, verify_package
from stethoscan.inference.package_writer import zip_package


def relist(folder: Path, **manifest_changes) -> None:
    """Re-sign the manifest as an attacker would: list every file with its current sha256."""
    manifest = tomllib.loads((folder / "manifest.toml").read_text())
    for key, value in manifest_changes.items():
        section, field = key.split("__")
        manifest[section][field] = value
    manifest["files"] = {
        p.relative_to(folder).as_posix(): sha256_file(p)
        for p in sorted(folder.rglob("*"))
        if p.is_file() and p.name != "manifest.toml"
    }
    (folder / "manifest.toml").write_bytes(tomli_w.dumps(manifest).encode())


def refused_check(path: Path) -> tuple[str, str]:
    with pytest.raises(ModelPackageError) as info:
        verify_package(path)
    return info.value.check, str(info.value)


def raw_safetensors(header: dict, data: bytes, length: int | None = None) -> bytes:
    encoded = json.dumps(header).encode()
    return (length if length is not None else len(encoded)).to_bytes(8, "little") + encoded + data


def test_valid_package_passes_and_is_audited(demo_package):
    verified = verify_package(demo_package)
    assert verified.name == "demo-2d" and verified.deep
    assert verified.weights_sha256 == sha256_file(demo_package / "weights.safetensors")
    last = json.loads(audit_log_path().read_text().splitlines()[-1])
    assert last["result"] == "ok" and last["name"] == "demo-2d"
    assert last["weights_sha256"] == verified.weights_sha256


def test_changed_byte_is_refused_by_sha256(demo_package):
    weights = demo_package / "weights.safetensors"
    data = bytearray(weights.read_bytes())
    data[-3] ^= 0x01
    weights.write_bytes(bytes(data))
    check, message = refused_check(demo_package)
    assert check == "sha256" and "weights.safetensors" in message
    last = json.loads(audit_log_path().read_text().splitlines()[-1])
    assert last["result"] == "refused" and last["check"] == "sha256"


def test_changed_card_is_refused(demo_package):
    (demo_package / "card.md").write_text("# Demo\nA card that says something else.")
    assert refused_check(demo_package)[0] == "sha256"


@pytest.mark.parametrize("protocol", [0, 2, 4, 5])
def test_listed_pickle_payload_is_refused(demo_package, protocol):
    (demo_package / "calibration.json").write_bytes(pickle.dumps({"a": [1, 2]}, protocol=protocol))
    relist(demo_package)
    check, message = refused_check(demo_package)
    assert check == "pickle" and "calibration.json" in message


def test_unlisted_pickle_file_is_refused_as_pickle(demo_package):
    (demo_package / "model.pkl").write_bytes(pickle.dumps([1]))
    assert refused_check(demo_package)[0] == "pickle"


def test_pickle_posing_as_weights_is_refused(demo_package):
    model = build_architecture("small_cnn2d", {"n_classes": 2, "widths": [4, 8]})
    (demo_package / "weights.safetensors").write_bytes(pickle.dumps(model.state_dict(), protocol=4))
    relist(demo_package)
    assert refused_check(demo_package)[0] == "pickle"


def test_object_npy_is_refused_as_pickle(demo_package):
    with open(demo_package / "table.npy", "wb") as handle:
        np.save(handle, np.array([{"a": 1}], dtype=object), allow_pickle=True)
    relist(demo_package)
    assert refused_check(demo_package)[0] == "pickle"


def test_plain_npy_and_json_extras_are_accepted(demo_package):
    np.save(demo_package / "mel_filter.npy", np.ones((4, 3), dtype=np.float32))
    (demo_package / "metrics.json").write_text(json.dumps({"auc": 0.9}))
    relist(demo_package)
    assert verify_package(demo_package).name == "demo-2d"


def test_nan_weights_are_refused(tmp_path):
    model = build_architecture("small_cnn2d", {"n_classes": 2, "widths": [4, 8]})
    state = model.state_dict()
    state["classifier.weight"][0, 1] = float("nan")
    folder = write_demo_package(tmp_path / "p", state_dict=state)
    check, message = refused_check(folder)
    assert check == "nan" and "classifier.weight" in message


def test_infinite_weights_are_refused(tmp_path):
    model = build_architecture("small_cnn2d", {"n_classes": 2, "widths": [4, 8]})
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    state["classifier.bias"][1] = float("inf")
    folder = write_demo_package(tmp_path / "p", state_dict=state)
    assert refused_check(folder)[0] == "nan"


def test_oversized_header_is_refused(demo_package):
    header = {"x": {"dtype": "F32", "shape": [1], "data_offsets": [0, 4]}}
    data = raw_safetensors(header, b"\0" * 4, length=17 * 1024 * 1024) + b"\0" * 64
    (demo_package / "weights.safetensors").write_bytes(data)
    relist(demo_package)
    check, message = refused_check(demo_package)
    assert check == "header" and "oversized header" in message


def test_bad_offsets_are_refused(demo_package):
    header = {"x": {"dtype": "F32", "shape": [4], "data_offsets": [0, 8]}}
    (demo_package / "weights.safetensors").write_bytes(raw_safetensors(header, b"\0" * 16))
    relist(demo_package)
    assert refused_check(demo_package)[0] == "header"


def test_disallowed_dtype_is_refused(demo_package):
    header = {"x": {"dtype": "F8_E4M3", "shape": [4], "data_offsets": [0, 4]}}
    (demo_package / "weights.safetensors").write_bytes(raw_safetensors(header, b"\0" * 4))
    relist(demo_package)
    check, message = refused_check(demo_package)
    assert check == "dtype" and "F8_E4M3" in message


def test_unknown_architecture_is_refused(demo_package):
    relist(demo_package, architecture__id="resnet_from_the_internet")
    check, message = refused_check(demo_package)
    assert check == "architecture" and "resnet_from_the_internet" in message


def test_shape_mismatch_is_refused(demo_package):
    relist(demo_package, architecture__params={"n_classes": 3, "widths": [4, 8]})
    check, message = refused_check(demo_package)
    assert check == "shape" and "classifier" in message


@pytest.mark.filterwarnings("ignore::FutureWarning")
def test_torchscript_file_in_package_is_refused(demo_package):
    traced = torch.jit.trace(torch.nn.Conv2d(1, 2, 3).eval(), torch.zeros(1, 1, 8, 8))
    torch.jit.save(traced, str(demo_package / "model.json"))  # a misleading name
    relist(demo_package)
    check, message = refused_check(demo_package)
    assert check == "torchscript" and "model.json" in message


def test_torch_export_file_in_package_is_refused(demo_package):
    exported = torch.export.export(torch.nn.Conv2d(1, 2, 3).eval(), (torch.zeros(1, 1, 8, 8),))
    torch.export.save(exported, str(demo_package / "model.pt2"))
    relist(demo_package)
    assert refused_check(demo_package)[0] == "torchscript"
    (demo_package / "model.pt2").rename(demo_package / "figure.png")
    relist(demo_package)
    assert refused_check(demo_package)[0] == "torchscript"


def test_torch_save_archive_given_as_package_is_refused(tmp_path):
    model = build_architecture("small_cnn2d", {"n_classes": 2, "widths": [4, 8]})
    target = tmp_path / "model.zip"
    torch.save(model.state_dict(), target)
    assert refused_check(target)[0] == "torchscript"


def test_pt_file_given_as_package_is_refused(tmp_path):
    target = tmp_path / "weights.pth"
    target.write_bytes(pickle.dumps([1], protocol=2))
    assert refused_check(target)[0] == "pickle"


def test_missing_card_is_refused(demo_package):
    (demo_package / "card.md").unlink()
    assert refused_check(demo_package)[0] == "missing_file"


def test_unlisted_harmless_file_is_refused(demo_package):
    (demo_package / "notes.txt").write_text("added later")
    assert refused_check(demo_package)[0] == "unlisted_file"


def test_malformed_manifest_is_refused(demo_package):
    (demo_package / "manifest.toml").write_text("schema_version = 1\n[model\n")
    assert refused_check(demo_package)[0] == "manifest"
    manifest = demo_manifest()
    del manifest["model"]["licence"]
    (demo_package / "manifest.toml").write_bytes(tomli_w.dumps(manifest).encode())
    check, message = refused_check(demo_package)
    assert check == "manifest" and "licence" in message


def test_zip_package_round_trip(demo_package):
    verified = verify_package(zip_package(demo_package))
    assert verified.name == "demo-2d"
    assert verified.path.is_relative_to(paths.data_dir())


@pytest.mark.parametrize("entry", ["../evil.txt", "/etc/evil.txt", "a/../../evil.txt"])
def test_zip_path_traversal_is_refused(demo_package, tmp_path, entry):
    target = tmp_path / "evil.zip"
    with zipfile.ZipFile(target, "w") as archive:
        for item in demo_package.iterdir():
            archive.write(item, item.name)
        archive.writestr(entry, "x")
    assert refused_check(target)[0] == "path"
    assert not (tmp_path / "evil.txt").exists()


def test_symlink_in_package_is_refused(demo_package, tmp_path):
    (tmp_path / "outside.md").write_text("x")
    (demo_package / "link.md").symlink_to(tmp_path / "outside.md")
    assert refused_check(demo_package)[0] == "path"

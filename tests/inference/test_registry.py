"""Registry: bundled and user packages, install (folder or zip) after verification, remove."""

from __future__ import annotations

import shutil

import pytest
from inference_test_packages import write_audio_package, write_demo_package, write_volume_package

from stethoscan.core.errors import ModelPackageError
from stethoscan.inference import registry
from stethoscan.inference.package_writer import zip_package


def test_install_from_folder_lists_and_shows_card(demo_package, model_dirs):
    entry = registry.install(demo_package)
    assert entry.source == "user" and entry.path.parent == model_dirs[1]
    names = [e.name for e in registry.list_packages()]
    assert names == ["demo-2d"]
    assert "A card." in registry.card_text("demo-2d")
    assert registry.verify("demo-2d").deep


def test_install_from_zip(demo_package, model_dirs):
    entry = registry.install(zip_package(demo_package))
    assert (entry.path / "weights.safetensors").is_file()


def test_tampered_package_is_not_installed(demo_package, model_dirs):
    (demo_package / "card.md").write_text("changed")
    with pytest.raises(ModelPackageError) as info:
        registry.install(demo_package)
    assert info.value.check == "sha256"
    assert list(model_dirs[1].iterdir()) == []


def test_installed_name_is_not_overwritten_without_replace(demo_package, model_dirs):
    registry.install(demo_package)
    with pytest.raises(ModelPackageError, match="already installed"):
        registry.install(demo_package)
    assert registry.install(demo_package, replace=True).name == "demo-2d"


def test_bundled_package_cannot_be_removed_or_shadowed(demo_package, model_dirs):
    shutil.copytree(demo_package, model_dirs[0] / "demo-2d")
    assert registry.find_package("demo-2d").source == "bundled"
    with pytest.raises(ModelPackageError, match="bundled"):
        registry.remove("demo-2d")
    with pytest.raises(ModelPackageError, match="bundled"):
        registry.install(demo_package)


def test_remove_user_package(demo_package, model_dirs):
    registry.install(demo_package)
    registry.remove("demo-2d")
    assert registry.list_packages() == []
    with pytest.raises(ModelPackageError, match="No model package is called"):
        registry.find_package("demo-2d")


def test_models_for_input_filter_by_kind_modality_and_dimensions(tmp_path, model_dirs):
    for folder in (write_demo_package(tmp_path / "a"), write_volume_package(tmp_path / "b"),
                   write_audio_package(tmp_path / "c")):  # fmt: skip
        registry.install(folder)
    assert [e.name for e in registry.models_for_input("audio")] == ["demo-audio"]
    assert {e.name for e in registry.models_for_input("scan", "MR", 3)} == {
        "demo-2d",
        "demo-volume",
    }
    assert [e.name for e in registry.models_for_input("scan", "MR", 2)] == ["demo-2d"]
    assert registry.models_for_input("scan", "CT") == []


def test_unreadable_manifest_is_reported_not_fatal(demo_package, model_dirs):
    registry.install(demo_package)
    broken = model_dirs[1] / "broken"
    broken.mkdir()
    (broken / "manifest.toml").write_text("not [toml")
    problems: list[str] = []
    assert [e.name for e in registry.list_packages(problems)] == ["demo-2d"]
    assert problems and "broken" in problems[0]

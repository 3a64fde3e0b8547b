"""Fixtures for the inference tests: packages written with the real writer, private model dirs."""

from __future__ import annotations

from pathlib import Path

import pytest
from inference_test_packages import write_demo_package

from stethoscan.core import paths


@pytest.fixture
def demo_package(tmp_path: Path) -> Path:
    return write_demo_package(tmp_path / "demo-2d")


@pytest.fixture
def model_dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[Path, Path]:
    """Empty bundled and user model folders for this test only; the model cache is cleared."""
    bundled, user = tmp_path / "bundled-models", tmp_path / "user-models"
    bundled.mkdir()
    user.mkdir()
    monkeypatch.setattr(paths, "bundled_models_dir", lambda: bundled)
    monkeypatch.setattr(paths, "user_models_dir", lambda: user)
    yield bundled, user
    from stethoscan.inference.runtime import clear_model_cache

    clear_model_cache()

"""Fixtures for the inference tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from inference_test_packages import write_demo_package


@pytest.fixture
def demo_package(tmp_path: Path) -> Path:
    return write_demo_package(tmp_path / "demo-2d")

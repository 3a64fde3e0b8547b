"""The layer rules hold: checked by import-linter and by importing in a clean interpreter."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_import_linter_contracts_hold():
    lint = Path(sys.executable).parent / "lint-imports"
    result = subprocess.run(
        [str(lint), "--config", str(REPO / "pyproject.toml")],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_gui_free_packages_load_neither_qt_nor_torch():
    code = (
        "import sys, importlib, pkgutil\n"
        "import stethoscan.core, stethoscan.imaging, stethoscan.audio, stethoscan.workflows,"
        " stethoscan.records, stethoscan.commands\n"
        "for pkg in (stethoscan.core, stethoscan.imaging, stethoscan.audio, stethoscan.workflows,"
        " stethoscan.records, stethoscan.commands):\n"
        "    for m in pkgutil.walk_packages(pkg.__path__, pkg.__name__ + '.'):\n"
        "        importlib.import_module(m.name)\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('PySide6', 'pyqtgraph', 'shiboken6', 'torch', 'torchvision', 'captum'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"heavy modules loaded: {result.stdout.strip()[:300]}"


def test_cli_help_is_fast_and_light():
    code = (
        "import sys\n"
        "from stethoscan.cli import build_parser\n"
        "build_parser()\n"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in"
        " ('PySide6', 'pyqtgraph', 'torch', 'librosa', 'captum'))\n"
        "print(','.join(bad))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "", f"`stethoscan --help` loads: {result.stdout.strip()[:300]}"

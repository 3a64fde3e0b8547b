"""Start the real application with the demo patient under X (Xvfb) and save screenshots.

``packaging/run_tests.sh`` runs pytest inside ``xvfb-run``, so DISPLAY is set; without it this
test starts its own ``Xvfb``. The PNGs land in ``test-artifacts/screenshots`` for people to look at.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PySide6.QtGui import QImage

REPO = Path(__file__).resolve().parents[2]
OUT = REPO / "test-artifacts" / "screenshots"
pytestmark = pytest.mark.screenshot


@pytest.fixture(scope="module")
def display():
    if os.environ.get("DISPLAY"):
        yield os.environ["DISPLAY"]
        return
    xvfb = shutil.which("Xvfb")
    if xvfb is None:
        pytest.skip("Xvfb is not installed (Debian package xvfb) and no DISPLAY is set")
    number = 90 + os.getpid() % 500
    server = subprocess.Popen([xvfb, f":{number}", "-screen", "0", "1600x1000x24", "-nolisten", "tcp"],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 10
        while not Path(f"/tmp/.X11-unix/X{number}").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield f":{number}"
    finally:
        server.terminate()
        server.wait(timeout=10)


def _dark_fraction(image: QImage, x0: float, y0: float, x1: float, y1: float) -> float:
    """Fraction of sampled pixels darker than mid-grey in a region given as fractions of the size."""
    w, h = image.width(), image.height()
    dark = total = 0
    for y in range(int(y0 * h), int(y1 * h), 7):
        for x in range(int(x0 * w), int(x1 * w), 7):
            total += 1
            dark += image.pixelColor(x, y).lightness() < 128
    return dark / max(total, 1)


def test_real_window_with_the_demo_patient(display, tmp_path):
    OUT.mkdir(parents=True, exist_ok=True)
    for old in (OUT / f"{name}.png" for name in ("main", "three_plane", "measurement")):
        old.unlink(missing_ok=True)
    env = dict(os.environ, DISPLAY=display, QT_QPA_PLATFORM="xcb", STETHOSCAN_HOME=str(tmp_path))
    result = subprocess.run(
        [sys.executable, "-m", "stethoscan", "--demo", "--screenshot", str(OUT)],
        env=env, capture_output=True, text=True, timeout=90,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    shots = {name: QImage(str(OUT / f"{name}.png")) for name in ("main", "three_plane", "measurement")}
    for name, image in shots.items():
        assert not image.isNull(), f"{name}.png was not written"
        assert image.width() >= 1000 and image.height() >= 700
        # a dark clinical theme: most of the window is dark
        assert _dark_fraction(image, 0.0, 0.0, 1.0, 1.0) > 0.6, name
    # the scan is drawn: the centre of the viewer holds bright anatomy, not an empty black view
    main = shots["main"]
    assert _dark_fraction(main, 0.35, 0.35, 0.6, 0.65) < 0.9
    assert shots["three_plane"] != main and shots["measurement"] != main
    # on quit the app saved its settings (with the recent item) and its window layout, and logged
    import json

    settings = json.loads((tmp_path / "config" / "settings.json").read_text())
    assert any(item.endswith(str(Path("demo") / "scan")) for item in settings["recent_items"])
    assert (tmp_path / "config" / "window_state.ini").is_file()
    assert (tmp_path / "data" / "logs" / "stethoscan.log").is_file()
    # the demo patient and its take are in the database the app used
    from stethoscan.records.patient_store import PatientStore

    store = PatientStore(tmp_path / "data" / "stethoscan.sqlite3")
    try:
        demo = store.find_patient("DEMO")
        assert demo is not None and demo.is_demo
        assert [r.status for r in store.list_recordings(patient_id=demo.id)] == ["imported"]
    finally:
        store.close()

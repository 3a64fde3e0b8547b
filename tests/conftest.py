"""Suite-wide fixtures: an isolated user home, offscreen Qt, no leaked threads, shared data."""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

REPO_ROOT = Path(__file__).resolve().parent.parent
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"


@pytest.fixture(autouse=True, scope="session")
def _isolated_home(tmp_path_factory: pytest.TempPathFactory):
    """Settings, the database and logs go to a temporary folder, never the developer's."""
    home = tmp_path_factory.mktemp("stethoscan-home")
    old = os.environ.get("STETHOSCAN_HOME")
    os.environ["STETHOSCAN_HOME"] = str(home)
    yield home
    if old is None:
        os.environ.pop("STETHOSCAN_HOME", None)
    else:
        os.environ["STETHOSCAN_HOME"] = old


_ALLOWED_THREAD_PREFIXES = (
    "MainThread",
    "pydevd",
    "QDBusConnection",
    "Dummy-",  # threads created by C libraries (PortAudio, Qt) that Python only sees as dummies
    "asyncio_",
)


@pytest.fixture(autouse=True)
def no_leaked_threads():
    """A test must stop every thread and stream it starts."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 3.0
    while True:
        leaked = [
            t
            for t in threading.enumerate()
            if t not in before and t.is_alive() and not t.name.startswith(_ALLOWED_THREAD_PREFIXES)
        ]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert not leaked, f"test leaked threads: {[t.name for t in leaked]}"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data`` (real scans and recordings); skipped with a reason where absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip("real data set ../shared/data is not present beside this checkout")
    return SHARED_DATA

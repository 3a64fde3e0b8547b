"""The real virtual microphone as a pytest fixture (PulseAudio null sink "vspk").

Import it in a test module with ``from virtual_mic import virtual_mic_fixture  # noqa: F401`` and
ask for the ``virtual_mic`` fixture. It reuses a running daemon (``make test`` starts one through
packaging/virtual_microphone.sh) or starts one, sets ``XDG_RUNTIME_DIR`` in ``os.environ`` and
restarts PortAudio in this process so it sees the ``pulse`` device. Tests are skipped only when
the PulseAudio programs are not installed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent.parent
SCRIPT = REPO / "packaging" / "virtual_microphone.sh"
TOOLS = ("pulseaudio", "pactl", "paplay")


@dataclass
class VirtualMic:
    """Play into the virtual microphone and "unplug" it."""

    device: str = "pulse"

    def play(self, path: str | os.PathLike[str]) -> subprocess.Popen:
        """Start playing a file into the microphone (real time); wait on the returned process."""
        return subprocess.Popen(["paplay", "--device=vspk", str(path)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    def unload_sink(self) -> float:
        """Remove the null sink (an unplugged microphone); return the monotonic time it happened."""
        modules = subprocess.run(["pactl", "list", "short", "modules"], capture_output=True,
                                 text=True, check=True).stdout
        ids = [line.split("\t")[0] for line in modules.splitlines() if "sink_name=vspk" in line]
        assert ids, "the virtual microphone sink is not loaded"
        for module_id in ids:
            subprocess.run(["pactl", "unload-module", module_id], check=True)
        return time.monotonic()

    def reload_sink(self) -> None:
        subprocess.run(["bash", str(SCRIPT), "reload"], check=True, capture_output=True)


def _daemon_reachable() -> bool:
    if not os.environ.get("XDG_RUNTIME_DIR"):
        return False
    return subprocess.run(["pactl", "info"], capture_output=True).returncode == 0


@pytest.fixture(scope="session", name="virtual_mic")
def virtual_mic_fixture():
    missing = [tool for tool in TOOLS if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"PulseAudio tools not installed ({', '.join(missing)}): "
                    "apt-get install pulseaudio pulseaudio-utils libasound2-plugins")
    started_here = not _daemon_reachable()
    out = subprocess.run(["bash", str(SCRIPT), "start"], capture_output=True, text=True,
                         timeout=60, check=True).stdout
    for line in out.splitlines():
        if line.startswith("export XDG_RUNTIME_DIR="):
            os.environ["XDG_RUNTIME_DIR"] = line.split("=", 1)[1].strip()
    import sounddevice as sd

    sd._terminate()  # PortAudio enumerates devices at start-up: let it see "pulse" now
    sd._initialize()
    yield VirtualMic()
    if started_here:
        subprocess.run(["bash", str(SCRIPT), "stop"], capture_output=True, timeout=30)


def onset_by_xcorr(recorded, played) -> int:
    """Sample index in ``recorded`` where ``played`` starts (peak of the cross-correlation)."""
    import numpy as np
    from scipy.signal import correlate

    xc = correlate(recorded.astype(np.float64), played.astype(np.float64), mode="full",
                   method="fft")
    return int(np.argmax(xc)) - (len(played) - 1)


def normalized_xcorr(a, b) -> float:
    """Zero-lag normalized cross-correlation of two equally long signals."""
    import numpy as np

    a, b = a.astype(np.float64), b.astype(np.float64)
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-20))


def sound_extent_s(x, rate_hz: int, below_peak_db: float = 40.0) -> tuple[float, float]:
    """First and last time (s) where the 10 ms RMS envelope is within ``below_peak_db`` of its peak."""
    import numpy as np

    hop = rate_hz // 100
    n = len(x) // hop
    env = np.sqrt((x[: n * hop].astype(np.float64).reshape(n, hop) ** 2).mean(axis=1))
    loud = np.flatnonzero(env > env.max() * 10 ** (-below_peak_db / 20))
    return loud[0] * hop / rate_hz, (loud[-1] + 1) * hop / rate_hz

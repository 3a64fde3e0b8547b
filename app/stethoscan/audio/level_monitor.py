"""Listen to a microphone without recording: the live feed for "Check level", nothing on disk.

Before a take the clinician places the stethoscope or microphone and sets the input gain while
watching the meter, the waveform and the spectrogram. :class:`LevelMonitor` opens the device
like :class:`stethoscan.audio.capture_stream.Recorder` (same :class:`CaptureConfig`, same
:func:`find_input_device`) and offers the same live feed, but it has no writer thread and no
file: the PortAudio callback only copies each block into a bounded queue (when the GUI falls
behind, the oldest block is dropped and counted) and counts input overflows. The device is
watched from :meth:`LevelMonitor.poll_events`, which the GUI calls on its timer anyway.

Public API::

    monitor = LevelMonitor(CaptureConfig(device="pulse", rate_hz=48000, channels=1))
    monitor.start()                       # AudioDeviceError if the device cannot be opened
    # every ~30 ms on the GUI thread:
    for block in monitor.read_live_blocks(): ...   # float32 (frames, channels)
    for event in monitor.poll_events(): ...        # CaptureEvent(kind, message, elapsed_s)
    monitor.status()                      # CaptureStatus(state="monitoring", elapsed_s, ...)
    monitor.stop()                        # the device is free again (a Recorder can open it)

Event kinds: ``started`` (the first block arrived), ``overflow`` (the input overflow count
grew), ``device_failed`` (unplugged or failing; the stream is closed, state "failed") and
``stopped``. ``elapsed_s`` is the sound received since :meth:`LevelMonitor.start`, in s.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from typing import Any

import numpy as np

from stethoscan.audio.audio_devices import (
    find_input_device,
)
from stethoscan.audio.capture_stream import MAX_BLOCK_MS, CaptureConfig, CaptureEvent, CaptureStatus
from stethoscan.audio.input_stream import (
    LiveInputBase,
    drain_events,
)
from stethoscan.core.errors import AudioError


class LevelMonitor(LiveInputBase):
    """A microphone's live feed without a file. See the module text.

    ``state``: idle | starting (opened, no sound yet) | monitoring | failed | stopped.
    """

    def __init__(self, config: CaptureConfig | None = None) -> None:
        self.config = config or CaptureConfig()
        if not 0 < self.config.block_ms <= MAX_BLOCK_MS:
            raise AudioError(f"Capture blocks must be 0-{MAX_BLOCK_MS:g} ms long.")
        live_blocks = max(int(self.config.live_queue_s * 1000 / self.config.block_ms), 4)
        self._live: deque[np.ndarray] = deque(maxlen=live_blocks)
        self._events: queue.SimpleQueue[CaptureEvent] = queue.SimpleQueue()
        self._lock = threading.RLock()
        self._state = "idle"
        self._stream: Any = None
        self._stream_ended = False
        self._opened_at = 0.0
        self._first_block_at: float | None = None
        self._last_block_at: float | None = None
        self._max_block_gap_s = 0.0
        self._frames = 0
        self._overflows = self._overflows_reported = 0
        self._live_dropped = 0
        self._started_reported = False
        self.device_label = ""

    # -- control (GUI thread) ---------------------------------------------------------------
    def start(self) -> None:
        """Open the device and start listening; :class:`AudioDeviceError` if that fails."""
        with self._lock:
            if self._state != "idle":
                raise AudioError("This level check was already started; make a new one.")
            device = find_input_device(self.config.device)
            self.device_label = device.label
            self._stream = self._open_stream(device.index)
            self._opened_at = time.monotonic()
            self._state = "starting"

    def stop(self) -> None:
        """Stop listening and release the device (nothing to save). Safe to call twice."""
        with self._lock:
            if self._state in ("idle", "stopped", "failed"):  # failed: the stream is closed
                return
            self._state = "stopped"
        self._close_stream()
        self._emit("stopped", "Level check stopped; nothing was recorded.")

    # -- live feed (GUI thread; read_live_blocks is LiveInputBase's) -------------------------
    def poll_events(self) -> list[CaptureEvent]:
        """What happened since the last call; also notices a failed or unplugged device."""
        self._watch_device()
        return drain_events(self._events)

    def status(self) -> CaptureStatus:
        return CaptureStatus(
            state=self.state, elapsed_s=self._frames / self.config.rate_hz,
            overflows=self._overflows, live_dropped=self._live_dropped, device=self.device_label,
            rate_hz=self.config.rate_hz, channels=self.config.channels,
            max_block_gap_s=self._max_block_gap_s,
        )

    @property
    def state(self) -> str:
        if self._state == "starting" and self._first_block_at is not None:
            return "monitoring"
        return self._state

    # -- PortAudio side ---------------------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy and count only, never block.
        if status.input_overflow:
            self._overflows += 1
        self._note_block_arrival(time.monotonic())
        self._frames += frames
        self._feed_live(indata.copy())

    # -- watching the device (from poll_events) ---------------------------------------------
    def _watch_device(self) -> None:
        if self._state not in ("starting", "monitoring"):
            return
        if not self._started_reported and self._first_block_at is not None:
            self._started_reported = True
            self._emit("started", f"Checking the level of {self.device_label}; nothing is recorded.")
        if self._overflows > self._overflows_reported:
            self._overflows_reported = self._overflows
            self._emit("overflow", f"{self._overflows} input overflow(s): some sound was lost.")
        failure = self._failure_message()
        if failure:
            with self._lock:
                if self._state not in ("starting", "monitoring"):
                    return  # stopped meanwhile: a closing stream is no failure
                self._state = "failed"
            self._close_stream()
            self._emit("device_failed", failure)

    def _failure_message(self) -> str:
        """Why the device is taken for failed, or "" (the same rules as the Recorder's)."""
        now, stream, label = time.monotonic(), self._stream, self.device_label
        heard = f"{self._frames / self.config.rate_hz:.1f} s"
        if self._stream_ended or (stream is not None and not stream.active):
            return (f"The microphone {label} stopped after {heard} of level check (unplugged or "
                    "failing). Nothing was being recorded; check the cable and check the level "
                    "again.")
        if self._last_block_at is None:
            if now - self._opened_at > self.config.start_timeout_s:
                return (f"The microphone {label} sent no sound within "
                        f"{self.config.start_timeout_s:g} s. Check that it is connected and "
                        "selected, or choose another one.")
        elif now - self._last_block_at > self.config.stall_timeout_s:
            return (f"The microphone {label} stopped sending sound after {heard} of level check "
                    "(unplugged or failing). Nothing was being recorded; check the connection "
                    "and check the level again.")
        return ""

    def _emit(self, kind: str, message: str) -> None:
        self._events.put(CaptureEvent(kind, message, self._frames / self.config.rate_hz))

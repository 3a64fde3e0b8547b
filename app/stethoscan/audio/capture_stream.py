"""Record from a microphone to disk, crash-safe, with a live feed for meters and spectrograms.

Three parties, never waiting for each other:

- the PortAudio callback only copies each block (10 ms by default, at most 20 ms) into the
  writer queue (unbounded) and into the live queue (bounded: when the GUI falls behind, the
  oldest block is dropped and counted), and counts input overflows;
- the writer thread drains the writer queue into a :class:`CrashSafeWriter` (durable within
  0.5 s), watches the device (no block for ``stall_timeout_s`` = failed), and finalizes the file;
- the GUI drains :meth:`Recorder.read_live_blocks` and :meth:`Recorder.poll_events` on a timer.

Public API (what the recording studio uses)::

    rec = Recorder("take.flac", CaptureConfig(device=None, rate_hz=48000, channels=1),
                   tags={"task": "vowel_a", "take": 1}, max_duration_s=None)
    rec.start()                      # AudioDeviceError if the device cannot be opened
    # every ~30 ms on the GUI thread:
    for block in rec.read_live_blocks(): ...   # float32 (frames, channels)
    for event in rec.poll_events(): ...        # CaptureEvent(kind, message, elapsed_s, result)
    rec.status()                     # CaptureStatus(state, elapsed_s, overflows, live_dropped, ...)
    rec.pause(); rec.resume()
    result = rec.stop()              # RecordingResult (path, duration_s, status, ...)
    rec.discard()                    # or throw the take away

Event kinds: ``started`` (first block arrived: the take's time starts now), ``paused``,
``resumed``, ``overflow`` (input overflow count grew), ``device_failed`` (microphone unplugged or
failing: the take so far is saved, status "interrupted"), ``disk_failed``, ``finished`` (the file
is final; ``event.result`` holds it) and ``discarded``. After ``device_failed`` or ``disk_failed``
a ``finished`` event follows with the kept take. :func:`record_to_file` is the headless use.
"""

from __future__ import annotations

import queue
import threading
import time
from collections import deque
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from stethoscan.audio.audio_devices import (
    find_input_device,
)
from stethoscan.audio.crash_safe_writer import CrashSafeWriter
from stethoscan.audio.input_stream import (
    LiveInputBase,
    drain_events,
)
from stethoscan.core.errors import AudioDeviceError, AudioError, Cancelled

MAX_BLOCK_MS = 20.0
_WRITER_WAKE_S = 0.1


@dataclass(frozen=True)
class CaptureConfig:
    """How to open the microphone. ``device``: index, (part of a) name, or None = system default."""

    device: int | str | None = None
    rate_hz: int = 48000
    channels: int = 1
    block_ms: float = 10.0
    live_queue_s: float = 2.0  # the live queue holds this much audio, s
    stall_timeout_s: float = 0.7  # no block for this long = the device failed, s
    start_timeout_s: float = 5.0  # the first block must come within this, s
    sync_interval_s: float = 0.5  # data is durable on disk at least this often, s
    latency: str | float | None = None  # PortAudio suggested latency (s, "low" or "high")

    @property
    def block_frames(self) -> int:
        return max(int(round(self.rate_hz * self.block_ms / 1000.0)), 1)


@dataclass(frozen=True)
class RecordingResult:
    """A finished take. ``status``: "complete" (stopped by the user or the time limit) or
    "interrupted" (device or disk failure; the take up to that point is kept)."""

    path: Path | None
    rate_hz: int
    channels: int
    frames: int
    overflows: int
    device: str
    status: str
    message: str = ""
    started_at: str = ""
    tags: dict[str, Any] = field(default_factory=dict)

    @property
    def duration_s(self) -> float:
        return self.frames / self.rate_hz if self.rate_hz else 0.0


@dataclass(frozen=True)
class CaptureEvent:
    kind: str
    message: str
    elapsed_s: float
    result: RecordingResult | None = None


@dataclass(frozen=True)
class CaptureStatus:
    state: str  # idle | starting | recording | paused | finishing | finished | failed | discarded
    elapsed_s: float  # recorded audio (pauses excluded), s
    overflows: int
    live_dropped: int
    device: str
    rate_hz: int
    channels: int
    max_block_gap_s: float = 0.0  # longest time between two blocks from the device, s


class Recorder(LiveInputBase):
    """One take from one microphone into ``out_path`` (FLAC or WAV). See the module text."""

    def __init__(
        self,
        out_path: str | Path,
        config: CaptureConfig | None = None,
        *,
        final_format: str = "FLAC",
        tags: dict[str, Any] | None = None,
        max_duration_s: float | None = None,
    ) -> None:
        self.config = config or CaptureConfig()
        if not 0 < self.config.block_ms <= MAX_BLOCK_MS:
            raise AudioError(f"Capture blocks must be 0-{MAX_BLOCK_MS:g} ms long.")
        self.out_path = Path(out_path)
        self.final_format = final_format
        self.tags = dict(tags or {})
        rate = self.config.rate_hz
        self._max_frames = None if max_duration_s is None else int(round(max_duration_s * rate))
        live_blocks = max(int(self.config.live_queue_s * 1000 / self.config.block_ms), 4)
        self._live: deque[np.ndarray] = deque(maxlen=live_blocks)
        self._writer_queue: queue.SimpleQueue[np.ndarray] = queue.SimpleQueue()
        self._events: queue.SimpleQueue[CaptureEvent] = queue.SimpleQueue()
        self._lock = threading.RLock()
        self._stop = threading.Event()
        self._finished = threading.Event()
        self._state = "idle"
        self._discard = False
        self._paused = False
        self._overflows = self._overflows_reported = 0
        self._live_dropped = 0
        self._frames_captured = 0
        self._first_block_at: float | None = None
        self._last_block_at: float | None = None
        self._max_block_gap_s = 0.0
        self._opened_at = 0.0
        self._stream: Any = None
        self._stream_ended = False
        self._writer: CrashSafeWriter | None = None
        self._thread: threading.Thread | None = None
        self.device_label = ""
        self.result: RecordingResult | None = None

    # -- control (any thread) ---------------------------------------------------------------
    def start(self) -> None:
        """Open the device and start recording; :class:`AudioDeviceError` if that fails."""
        with self._lock:
            if self._state != "idle":
                raise AudioError("This recorder was already started; make a new one for a new take.")
            device = find_input_device(self.config.device)
            self.device_label = device.label
            self._writer = CrashSafeWriter(
                self.out_path, self.config.rate_hz, self.config.channels, device=device.label,
                tags=self.tags, final_format=self.final_format,
                sync_interval_s=self.config.sync_interval_s,
            )
            try:
                self._stream = self._open_stream(device.index)
            except AudioDeviceError:
                self._writer.discard()
                raise
            self._opened_at = time.monotonic()
            self._state = "starting"
            self._thread = threading.Thread(
                target=self._writer_loop, name="stethoscan-recording-writer", daemon=True
            )
            self._thread.start()

    def pause(self) -> None:
        """Stop writing (the live feed goes on, so the meter still moves)."""
        with self._lock:
            if self._state == "recording":
                self._paused, self._state = True, "paused"
                self._emit("paused", "Recording paused.")

    def resume(self) -> None:
        with self._lock:
            if self._state == "paused":
                self._paused, self._state = False, "recording"
                self._emit("resumed", "Recording resumed.")

    def stop(self, wait: bool = True, timeout: float | None = None) -> RecordingResult | None:
        """Stop and save the take. With ``wait`` returns the result once the file is final."""
        with self._lock:
            if self._state == "idle":
                return None
            if self._state not in ("finished", "failed", "discarded"):
                self._state = "finishing"
            self._stop.set()  # first, so the writer does not take the closing stream for a failure
            self._close_stream()
        return self.wait(timeout) if wait else None

    def discard(self) -> None:
        """Stop and delete everything recorded in this take (also after it became final)."""
        with self._lock:
            self._discard = True
        result = self.stop(wait=True)
        if result is not None and result.path is not None:  # it had already finished
            result.path.unlink(missing_ok=True)
            self.result = replace(result, path=None, frames=0, message="The take was discarded.")
            self._mark_discarded()

    def wait(self, timeout: float | None = None) -> RecordingResult | None:
        """Wait until the take is final (after stop, the time limit or a failure)."""
        self._finished.wait(timeout)
        if self._thread is not None and self._finished.is_set():
            self._thread.join(timeout)
        return self.result

    # -- live feed (GUI thread; read_live_blocks is LiveInputBase's) -------------------------
    def poll_events(self) -> list[CaptureEvent]:
        return drain_events(self._events)

    def status(self) -> CaptureStatus:
        return CaptureStatus(
            state=self._state, elapsed_s=self._frames_captured / self.config.rate_hz,
            overflows=self._overflows, live_dropped=self._live_dropped, device=self.device_label,
            rate_hz=self.config.rate_hz, channels=self.config.channels,
            max_block_gap_s=self._max_block_gap_s,
        )

    @property
    def state(self) -> str:
        return self._state

    # -- PortAudio side ---------------------------------------------------------------------
    def _callback(self, indata: np.ndarray, frames: int, time_info: Any, status: Any) -> None:
        # Runs on PortAudio's thread: copy and count only, never block.
        if status.input_overflow:
            self._overflows += 1
        block = indata.copy()
        self._note_block_arrival(time.monotonic())
        if not self._paused:
            if self._max_frames is not None:
                block_to_write = block[: max(self._max_frames - self._frames_captured, 0)]
            else:
                block_to_write = block
            if block_to_write.shape[0]:
                self._frames_captured += block_to_write.shape[0]
                self._writer_queue.put(block_to_write)
        self._feed_live(block)

    # -- writer thread ----------------------------------------------------------------------
    def _writer_loop(self) -> None:
        kind, message = "", ""
        try:
            while not self._stop.is_set():
                self._write_available(_WRITER_WAKE_S)
                self._report_progress()
                kind, message = self._check_failure()
                if kind:
                    break
        except AudioError as exc:
            kind, message = "disk_failed", str(exc)
        self._close_stream()
        self._finish(kind, message)

    def _write_available(self, timeout: float) -> None:
        try:
            blocks = [self._writer_queue.get(timeout=timeout)]
        except queue.Empty:
            return
        while True:
            try:
                blocks.append(self._writer_queue.get_nowait())
            except queue.Empty:
                break
        assert self._writer is not None
        self._writer.write(np.concatenate(blocks) if len(blocks) > 1 else blocks[0])

    def _report_progress(self) -> None:
        if self._state == "starting" and self._first_block_at is not None:
            with self._lock:
                if self._state == "starting":
                    self._state = "recording"
            self._emit("started", f"Recording from {self.device_label}.")
        if self._overflows > self._overflows_reported:
            self._overflows_reported = self._overflows
            self._emit("overflow", f"{self._overflows} input overflow(s): some sound was lost.")

    def _check_failure(self) -> tuple[str, str]:
        if self._max_frames is not None and self._frames_captured >= self._max_frames:
            self._stop.set()
            return "", ""
        if self._stop.is_set():
            return "", ""
        now, elapsed, stream = time.monotonic(), self._elapsed_text(), self._stream
        if self._stream_ended or (stream is not None and not stream.active):
            return "device_failed", (
                f"The microphone {self.device_label} stopped after {elapsed} (unplugged or "
                "failing). The sound recorded so far was saved; check the cable and record again."
            )
        if self._last_block_at is None:
            if now - self._opened_at > self.config.start_timeout_s:
                return "device_failed", (
                    f"The microphone {self.device_label} sent no sound within "
                    f"{self.config.start_timeout_s:g} s. Check that it is connected and selected, "
                    "or choose another one."
                )
        elif now - self._last_block_at > self.config.stall_timeout_s:
            return "device_failed", (
                f"The microphone {self.device_label} stopped sending sound after {elapsed} "
                "(unplugged or failing). The sound recorded so far was saved; check the "
                "connection and record again."
            )
        return "", ""

    def _finish(self, failure_kind: str, failure_message: str) -> None:
        writer = self._writer
        assert writer is not None
        if failure_kind:
            self._emit(failure_kind, failure_message)
        with self._lock:
            discard = self._discard
        path: Path | None = None
        try:
            while not self._writer_queue.empty():  # the stream is closed: nothing more arrives
                self._write_available(0.0)
            if discard or writer.frames_written == 0:
                writer.discard()
            else:
                path = writer.finalize()
        except AudioError as exc:
            failure_kind, failure_message = "disk_failed", str(exc)
            self._emit(failure_kind, failure_message)
        self._publish_result(path, failure_kind, failure_message, writer, discard)

    def _publish_result(self, path: Path | None, failure: str, message: str,
                        writer: CrashSafeWriter, discard: bool) -> None:
        frames = writer.frames_written if path is not None else 0
        status = "interrupted" if failure else "complete"
        if path is None and not message:
            message = "The take was discarded." if discard else "Nothing was recorded."
        self.result = RecordingResult(
            path=path, rate_hz=self.config.rate_hz, channels=self.config.channels, frames=frames,
            overflows=self._overflows, device=self.device_label, status=status, message=message,
            started_at=writer.journal.started_at, tags=self.tags,
        )
        if discard:
            self._mark_discarded()
        else:
            with self._lock:
                self._state = "failed" if failure else "finished"
            self._emit("finished", message or f"Saved {self.result.duration_s:.1f} s.", self.result)
        self._finished.set()

    def _mark_discarded(self) -> None:
        with self._lock:
            self._state = "discarded"
        self._emit("discarded", "The take was discarded.")

    def _emit(self, kind: str, message: str, result: RecordingResult | None = None) -> None:
        elapsed = self._frames_captured / self.config.rate_hz
        self._events.put(CaptureEvent(kind, message, elapsed, result))

    def _elapsed_text(self) -> str:
        return f"{self._frames_captured / self.config.rate_hz:.1f} s"


def record_to_file(
    out_path: str | Path,
    seconds: float,
    config: CaptureConfig | None = None,
    task: Any = None,
    *,
    final_format: str = "FLAC",
    tags: dict[str, Any] | None = None,
    on_event: Any = None,
) -> RecordingResult:
    """Record ``seconds`` of audio into ``out_path``; cancelling ``task`` stops and keeps the take.

    ``on_event(event)`` (optional) is called on this thread for every :class:`CaptureEvent`.
    """
    recorder = Recorder(out_path, config, final_format=final_format, tags=tags,
                        max_duration_s=seconds)
    recorder.start()
    try:
        while not recorder.wait(0.05) and recorder.state not in ("finished", "failed"):
            recorder.read_live_blocks()
            for event in recorder.poll_events():
                if on_event is not None:
                    on_event(event)
            if task is not None:
                elapsed = recorder.status().elapsed_s
                task.progress(elapsed / seconds, f"{elapsed:.1f} of {seconds:g} s")
                task.check_cancelled()
    except (Cancelled, KeyboardInterrupt):
        pass
    finally:
        result = recorder.stop()
        for event in recorder.poll_events():
            if on_event is not None:
                on_event(event)
    assert result is not None
    return result

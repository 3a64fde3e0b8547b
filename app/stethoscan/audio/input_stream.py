"""Opening and closing a PortAudio input stream, shared by the Recorder and the LevelMonitor.

The stream delivers float32 blocks of ``config.block_frames`` to ``callback`` on PortAudio's
thread; failures become :class:`AudioDeviceError` with what to do.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from stethoscan.audio.audio_devices import load_sounddevice, note_stream_closed, note_stream_opened
from stethoscan.core.errors import AudioDeviceError


def open_input_stream(config: Any, device_index: int, device_label: str,
                      callback: Callable[..., None], finished_callback: Callable[[], None]):
    """Open and start an input stream; ``config`` is a ``CaptureConfig``."""
    sd = load_sounddevice()
    try:
        stream = sd.InputStream(
            device=device_index, samplerate=config.rate_hz, channels=config.channels,
            dtype="float32", blocksize=config.block_frames, latency=config.latency,
            callback=callback, finished_callback=finished_callback,
        )
    except (sd.PortAudioError, ValueError) as exc:
        raise AudioDeviceError(
            f"The microphone {device_label} could not be opened at {config.rate_hz} Hz with "
            f"{config.channels} channel(s) ({exc}). Choose another sample rate or microphone, "
            "or check that no other program holds it."
        ) from exc
    note_stream_opened()
    try:
        stream.start()
    except sd.PortAudioError as exc:
        stream.close(ignore_errors=True)
        note_stream_closed()
        raise AudioDeviceError(
            f"The microphone {device_label} could not be started ({exc}). Check that it is "
            "connected and not used by another program."
        ) from exc
    return stream


def close_input_stream(stream: Any) -> None:
    """Abort and close ``stream`` (None: nothing to do); a device already gone is not an error."""
    if stream is None:
        return
    sd = load_sounddevice()
    try:
        stream.abort(ignore_errors=True)
        stream.close(ignore_errors=True)
    except sd.PortAudioError:  # the device is already gone: nothing left to close
        pass
    finally:
        note_stream_closed()


def drain_blocks(live: Any) -> list:
    """Pop every block from a ``collections.deque`` (oldest first) without blocking."""
    blocks = []
    while True:
        try:
            blocks.append(live.popleft())
        except IndexError:
            return blocks


def drain_events(events: Any) -> list:
    """Take every item from a ``queue.SimpleQueue`` (oldest first) without blocking."""
    import queue

    out = []
    while True:
        try:
            out.append(events.get_nowait())
        except queue.Empty:
            return out


class LiveInputBase:
    """What the Recorder and the LevelMonitor share around their PortAudio stream.

    Subclasses define ``start`` and ``stop`` and set ``config``, ``device_label``, ``_lock``, ``_stream``, ``_stream_ended``,
    ``_live`` (a bounded deque), ``_live_dropped``, ``_first_block_at``, ``_last_block_at``,
    ``_max_block_gap_s`` and define ``_callback``.
    """

    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    def read_live_blocks(self) -> list:
        """All blocks that arrived since the last call, oldest first: float32 (frames, channels)."""
        return drain_blocks(self._live)

    def _open_stream(self, device_index: int):
        return open_input_stream(self.config, device_index, self.device_label, self._callback,
                                 self._on_stream_finished)  # fmt: skip

    def _on_stream_finished(self) -> None:
        self._stream_ended = True

    def _close_stream(self) -> None:
        with self._lock:
            stream, self._stream = self._stream, None
        close_input_stream(stream)

    def _note_block_arrival(self, now: float) -> None:
        """Block timing, on PortAudio's thread: first arrival and the longest gap (s)."""
        if self._first_block_at is None:
            self._first_block_at = now
        elif now - self._last_block_at > self._max_block_gap_s:
            self._max_block_gap_s = now - self._last_block_at
        self._last_block_at = now

    def _feed_live(self, block) -> None:
        """Hand a block to the live views (the oldest is dropped, and counted, when full)."""
        if len(self._live) == self._live.maxlen:
            self._live_dropped += 1
        self._live.append(block)

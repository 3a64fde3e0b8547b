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

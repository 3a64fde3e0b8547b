"""Playback of a recording (or a part of it) through the system's audio output.

A sounddevice ``OutputStream`` pulls the samples in its callback (the callback only copies the
next block; it never allocates or logs). A 30 Hz GUI timer reads how far the stream has got and
emits :attr:`Playback.position_changed` in seconds of the recording, for the moving cursor; it
also notices the end and closes the stream. :meth:`Playback.stop` and :meth:`Playback.close`
always close the stream, so no audio thread outlives playback.

If the output device refuses the recording's sample rate (a 4 kHz stethoscope file, say) the
samples are resampled once (scipy ``resample_poly``) to the device's default rate.
"""

from __future__ import annotations

import logging
import math

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal

from stethoscan.core.errors import AudioDeviceError

_log = logging.getLogger(__name__)
CURSOR_INTERVAL_MS = 33
_NO_OUTPUT = (
    "No loudspeaker or headphones were found, so the recording cannot be played. Connect an "
    "audio output (or enable it in the system sound settings) and press Play again."
)
_NO_PORTAUDIO = (
    "The audio system (PortAudio) is not installed, so nothing can be played. Install the "
    "libportaudio2 package (Debian/Ubuntu: sudo apt-get install libportaudio2) and restart."
)


class _Source:
    """The samples being played; ``position`` (frames) is advanced by the audio callback."""

    def __init__(self, samples: np.ndarray, rate_hz: int, offset_s: float) -> None:
        self.samples = samples  # float32, (frames, channels), at the output rate
        self.rate_hz = rate_hz
        self.offset_s = offset_s  # recording time of the first sample, s
        self.position = 0


class Playback(QObject):
    """Plays float samples and reports the position (s, in recording time) for a cursor."""

    position_changed = Signal(float)
    state_changed = Signal(bool)  # True while playing
    failed = Signal(str)  # an actionable sentence (no device, device failed)

    def __init__(self, device: int | str | None = None, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.device = device  # None = the system's default output
        self._stream = None
        self._source: _Source | None = None
        self._timer = QTimer(self)
        self._timer.setInterval(CURSOR_INTERVAL_MS)
        self._timer.timeout.connect(self._tick)

    @property
    def is_playing(self) -> bool:
        return self._stream is not None

    def play(self, samples: np.ndarray, rate_hz: int, start_s: float = 0.0,
             end_s: float | None = None, time_offset_s: float = 0.0) -> bool:
        """Play ``samples[start_s:end_s]`` (mono or (frames, channels)); False if it could not start.

        Positions are reported as ``time_offset_s + t`` where ``t`` is the time in ``samples``.
        On failure :attr:`failed` carries the message.
        """
        self.stop()
        data = _as_frames(samples)
        first = min(max(int(round(start_s * rate_hz)), 0), data.shape[0])
        last = data.shape[0] if end_s is None else min(int(round(end_s * rate_hz)), data.shape[0])
        if last - first < 2:
            self.failed.emit("Nothing to play: the selection is empty.")
            return False
        try:
            self._start(data[first:last], int(rate_hz), time_offset_s + first / rate_hz)
        except AudioDeviceError as exc:
            self._stream = None
            self.failed.emit(str(exc))
            return False
        self._timer.start()
        self.state_changed.emit(True)
        self.position_changed.emit(self._source.offset_s if self._source else 0.0)
        return True

    def stop(self) -> None:
        """Stop at once and close the stream (safe to call when not playing)."""
        stream, self._stream = self._stream, None
        self._timer.stop()
        if stream is None:
            return
        try:
            stream.abort(ignore_errors=True)
            stream.close(ignore_errors=True)
        finally:
            _note_closed()
            self.state_changed.emit(False)

    def close(self) -> None:
        """Stop and forget the samples (when the view closes)."""
        self.stop()
        self._source = None

    # -- internals ---------------------------------------------------------------------------
    def _start(self, data: np.ndarray, rate_hz: int, offset_s: float) -> None:
        sd = _sounddevice()
        device = self._output_device(sd)
        channels = _output_channels(sd, device, data.shape[1])
        out_rate = _output_rate(sd, device, rate_hz, channels)
        if out_rate != rate_hz:
            data = _resample(data, rate_hz, out_rate)
        if channels != data.shape[1]:
            data = np.repeat(data[:, :1], channels, axis=1) if data.shape[1] == 1 else data[:, :channels]
        self._source = _Source(np.ascontiguousarray(data, dtype=np.float32), out_rate, offset_s)
        try:
            stream = sd.OutputStream(samplerate=out_rate, channels=channels, dtype="float32",
                                     device=device, callback=self._callback)
            stream.start()
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(
                f"The audio output could not be started ({exc}). Check the loudspeaker or "
                "headphones in the system sound settings and press Play again."
            ) from exc
        _note_opened()
        self._stream = stream

    def _output_device(self, sd) -> int | str | None:
        try:
            info = sd.query_devices(self.device, kind="output")
        except (sd.PortAudioError, ValueError) as exc:
            raise AudioDeviceError(_NO_OUTPUT) from exc
        if not info or int(info.get("max_output_channels", 0)) < 1:
            raise AudioDeviceError(_NO_OUTPUT)
        return self.device

    def _callback(self, outdata, frames, time_info, status) -> None:  # PortAudio thread
        source = self._source
        if source is None:
            outdata.fill(0)
            raise _callback_stop()
        start = source.position
        chunk = source.samples[start : start + frames]
        n = chunk.shape[0]
        outdata[:n] = chunk
        source.position = start + n
        if n < frames:
            outdata[n:].fill(0)
            raise _callback_stop()

    def _tick(self) -> None:
        stream, source = self._stream, self._source
        if stream is None or source is None:
            self._timer.stop()
            return
        if not stream.active:
            self.position_changed.emit(source.offset_s + source.samples.shape[0] / source.rate_hz)
            self.stop()
            return
        latency_s = float(stream.latency) if isinstance(stream.latency, float) else 0.0
        played_s = max(source.position / source.rate_hz - latency_s, 0.0)
        self.position_changed.emit(source.offset_s + played_s)


def _sounddevice():
    try:
        import sounddevice
    except (OSError, ImportError) as exc:  # OSError: no libportaudio on this system
        raise AudioDeviceError(_NO_PORTAUDIO) from exc
    return sounddevice


def _callback_stop() -> BaseException:
    import sounddevice

    return sounddevice.CallbackStop()


def _as_frames(samples: np.ndarray) -> np.ndarray:
    data = np.asarray(samples, dtype=np.float32)
    return data[:, None] if data.ndim == 1 else data


def _output_channels(sd, device, wanted: int) -> int:
    available = int(sd.query_devices(device, kind="output")["max_output_channels"])
    return max(1, min(wanted, available, 2))


def _output_rate(sd, device, rate_hz: int, channels: int) -> int:
    """``rate_hz`` if the device takes it, else the device's default rate."""
    try:
        sd.check_output_settings(device=device, samplerate=rate_hz, channels=channels, dtype="float32")
        return rate_hz
    except (sd.PortAudioError, ValueError):
        default = int(sd.query_devices(device, kind="output")["default_samplerate"])
        _log.info("Output device refuses %d Hz; playing at %d Hz", rate_hz, default)
        return default


def _resample(data: np.ndarray, rate_hz: int, target_hz: int) -> np.ndarray:
    from scipy.signal import resample_poly

    g = math.gcd(rate_hz, target_hz)
    return resample_poly(data, target_hz // g, rate_hz // g, axis=0).astype(np.float32)


def _note_opened() -> None:
    from stethoscan.audio import audio_devices

    audio_devices.note_stream_opened()


def _note_closed() -> None:
    from stethoscan.audio import audio_devices

    audio_devices.note_stream_closed()

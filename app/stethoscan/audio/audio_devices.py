"""Input devices (microphones) through PortAudio / sounddevice, and sensible defaults.

Public API::

    devices = list_input_devices()        # [InputDevice(index, name, host_api, ...)]
    devices = rescan_input_devices()      # after plugging a microphone in (no stream may be open)
    choice = choose_input(device="USB Stethoscope", rate_hz=None, channels=1)
    choice.device.label, choice.rate_hz, choice.channels   # what to open
    host_api_names()                      # ["ALSA", ...] for the host-API picker

``choose_input`` falls back to the system default input when the remembered device is gone
(``choice.fallback_reason`` then says so), and picks 48 kHz, else 44.1 kHz, else the device's
own rate. Every failure raises :class:`AudioDeviceError` with a message saying what to do.
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass
from typing import Any

from stethoscan.core.errors import AudioDeviceError

PREFERRED_RATES_HZ = (48000, 44100)
_NO_PORTAUDIO = (
    "The audio system (PortAudio) is not installed, so no microphone can be used. Install the "
    "libportaudio2 package (Debian/Ubuntu: sudo apt-get install libportaudio2) and restart."
)
_NO_INPUT = (
    "No microphone was found. Plug one in (or enable it in the system sound settings), "
    "then press Rescan in the recording studio (at the command line: run the command again)."
)
_open_streams = 0
_open_streams_lock = threading.Lock()


@dataclass(frozen=True)
class InputDevice:
    """One input device. Rate in Hz."""

    index: int
    name: str
    host_api: str
    max_input_channels: int
    default_rate_hz: int
    is_default: bool

    @property
    def label(self) -> str:
        return f"{self.name} ({self.host_api})"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class InputChoice:
    """A device with the rate (Hz) and channel count to open it with."""

    device: InputDevice
    rate_hz: int
    channels: int
    fallback_reason: str = ""  # why the requested device was not used, if it was not


def load_sounddevice():
    """Import sounddevice; :class:`AudioDeviceError` if the PortAudio library is missing."""
    try:
        import sounddevice
    except (OSError, ImportError) as exc:  # OSError: sounddevice found no libportaudio
        raise AudioDeviceError(_NO_PORTAUDIO) from exc
    return sounddevice


def list_input_devices() -> list[InputDevice]:
    """Every device with at least one input channel; the system default is marked."""
    sd = load_sounddevice()
    try:
        hostapis = sd.query_hostapis()
        devices = sd.query_devices()
    except sd.PortAudioError as exc:
        raise AudioDeviceError(f"The list of microphones could not be read ({exc}). {_NO_INPUT}") from exc
    default_index = _default_input_index(sd)
    return [
        InputDevice(
            index=int(d["index"]),
            name=str(d["name"]),
            host_api=str(hostapis[d["hostapi"]]["name"]),
            max_input_channels=int(d["max_input_channels"]),
            default_rate_hz=int(round(d["default_samplerate"])),
            is_default=int(d["index"]) == default_index,
        )
        for d in devices
        if d["max_input_channels"] > 0
    ]


def rescan_input_devices() -> list[InputDevice]:
    """Restart PortAudio so newly plugged devices appear; refused while a stream is open."""
    sd = load_sounddevice()
    with _open_streams_lock:
        if _open_streams:
            raise AudioDeviceError("Stop the recording before rescanning the microphones.")
        sd._terminate()
        sd._initialize()
    return list_input_devices()


def host_api_names() -> list[str]:
    """Host APIs that have at least one input device (for the host-API picker)."""
    names: list[str] = []
    for device in list_input_devices():
        if device.host_api not in names:
            names.append(device.host_api)
    return names


def find_input_device(device: int | str | None, host_api: str | None = None) -> InputDevice:
    """The device with this index or (part of its) name, or the system default for ``None``."""
    devices = list_input_devices()
    if host_api:
        devices = [d for d in devices if d.host_api == host_api] or devices
    if not devices:
        raise AudioDeviceError(_NO_INPUT)
    if device is None or device == "":
        return next((d for d in devices if d.is_default), devices[0])
    if isinstance(device, int) or str(device).isdigit():
        match = [d for d in devices if d.index == int(device)]
    else:
        match = [d for d in devices if d.name == device] or [
            d for d in devices if str(device).lower() in d.name.lower()
        ]
    if not match:
        raise AudioDeviceError(
            f"The microphone '{device}' is not connected. Plug it in and press Rescan (at the "
            "command line: run the command again), or choose another microphone "
            "(`stethoscan audio devices` lists them)."
        )
    return match[0]


def choose_input(
    device: int | str | None = None,
    rate_hz: int | None = None,
    channels: int = 1,
    host_api: str | None = None,
    fallback: bool = True,
) -> InputChoice:
    """Resolve a (remembered) device, rate and channel count to something that can be opened.

    With ``fallback`` a missing device is replaced by the system default (``fallback_reason``
    says so); without it :class:`AudioDeviceError` is raised.
    """
    reason = ""
    try:
        chosen = find_input_device(device, host_api)
    except AudioDeviceError:
        if device is None or not fallback:
            raise
        chosen = find_input_device(None)
        reason = f"The microphone '{device}' is not connected; using {chosen.label} instead."
    channels = max(1, min(int(channels), chosen.max_input_channels))
    rates = [int(rate_hz)] if rate_hz else [*PREFERRED_RATES_HZ, chosen.default_rate_hz]
    for rate in rates:
        if supports_input(chosen, rate, channels):
            return InputChoice(chosen, rate, channels, reason)
    raise AudioDeviceError(
        f"{chosen.label} cannot record at {rates[0]} Hz with {channels} channel(s). Choose another "
        "sample rate or microphone."
    )


def supports_input(device: InputDevice, rate_hz: int, channels: int) -> bool:
    """Whether PortAudio accepts this rate (Hz) and channel count for the device."""
    sd = load_sounddevice()
    try:
        sd.check_input_settings(device=device.index, samplerate=rate_hz, channels=channels,
                                dtype="float32")
    except (sd.PortAudioError, ValueError):
        return False
    return True


def note_stream_opened() -> None:
    """Called by the capture stream so a rescan cannot pull PortAudio away under it."""
    global _open_streams
    with _open_streams_lock:
        _open_streams += 1


def note_stream_closed() -> None:
    global _open_streams
    with _open_streams_lock:
        _open_streams = max(_open_streams - 1, 0)


def _default_input_index(sd) -> int:
    try:
        return int(sd.query_devices(kind="input")["index"])
    except (sd.PortAudioError, ValueError):
        return -1

"""Choose the microphone: host API, device, sample rate (Hz), channels; Rescan after plugging in.

The choice is remembered in ``settings.audio`` (device by name, so it survives a change of
device numbers). Defaults: the system default input, 48 kHz (else 44.1 kHz), mono. A remembered
microphone that is not connected is shown as such and the system default is used meanwhile; the
setting is kept, so the microphone is used again once it is back.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QWidget,
)

from stethoscan.audio.audio_devices import (
    PREFERRED_RATES_HZ,
    InputChoice,
    InputDevice,
    choose_input,
    list_input_devices,
    rescan_input_devices,
    supports_input,
)
from stethoscan.audio.capture_stream import CaptureConfig
from stethoscan.core.errors import AudioDeviceError
from stethoscan.core.settings import AudioSettings

RATES_HZ = (48000, 44100, 32000, 22050, 16000, 8000, 96000)
_DEFAULT = None  # item data of "System default"


def device_summary(choice: InputChoice) -> str:
    """One line for the studio: "pulse (ALSA) · 48 kHz · mono"."""
    layout = {1: "mono", 2: "stereo"}.get(choice.channels, f"{choice.channels} channels")
    return f"{choice.device.label} · {choice.rate_hz / 1000:g} kHz · {layout}"


class DevicePicker(QWidget):
    """The four pickers and a Rescan button; writes every change into ``audio`` settings.

    Signals
    -------
    changed
        The user chose another device, rate or channel count (settings already updated).
    """

    changed = Signal()

    def __init__(self, audio: AudioSettings, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("devicePicker")
        self.audio = audio
        self.devices: list[InputDevice] = []
        self._filling = False
        self.host_combo = QComboBox()
        self.device_combo = QComboBox()
        self.rate_combo = QComboBox()
        self.channels_combo = QComboBox()
        self.rescan_button = QPushButton("Rescan")
        self.rescan_button.setToolTip("Look again for microphones (after plugging one in)")
        self.message = QLabel("")
        self.message.setObjectName("devicePickerMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #f0c75e;")
        self.message.hide()
        self._build_layout()
        self.host_combo.currentIndexChanged.connect(self._on_host_changed)
        self.device_combo.currentIndexChanged.connect(self._on_device_changed)
        self.rate_combo.currentIndexChanged.connect(self._on_format_changed)
        self.channels_combo.currentIndexChanged.connect(self._on_format_changed)
        self.rescan_button.clicked.connect(self.rescan)
        self.reload(list_devices=list_input_devices)

    def _build_layout(self) -> None:
        form = QFormLayout(self)
        form.setContentsMargins(0, 0, 0, 0)
        form.setLabelAlignment(Qt.AlignmentFlag.AlignRight)
        host_row = QHBoxLayout()
        host_row.addWidget(self.host_combo, 1)
        host_row.addWidget(self.rescan_button)
        form.addRow("Audio system", host_row)
        form.addRow("Microphone", self.device_combo)
        form.addRow("Sample rate", self.rate_combo)
        form.addRow("Channels", self.channels_combo)
        form.addRow(self.message)

    # -- filling ------------------------------------------------------------------------------
    def rescan(self) -> None:
        """Restart PortAudio so newly plugged microphones appear (refused while recording)."""
        self.reload(list_devices=rescan_input_devices)

    def reload(self, list_devices=list_input_devices) -> None:
        try:
            self.devices = list_devices()
        except AudioDeviceError as exc:
            self.devices = []
            self._show_message(str(exc))
        self._refill(self._fill_hosts, self._fill_devices, self._fill_formats)
        self._check_remembered_device()

    def _refill(self, *steps: Callable[[], None]) -> None:
        """Run the fill ``steps`` with the combos' change handlers quiet (they fire on clear())."""
        self._filling = True
        try:
            for step in steps:
                step()
        finally:
            self._filling = False

    def _fill_hosts(self) -> None:
        self.host_combo.clear()
        hosts = list(dict.fromkeys(d.host_api for d in self.devices))
        for host in hosts:
            self.host_combo.addItem(host, host)
        wanted = self.audio.host_api if self.audio.host_api in hosts else None
        if wanted is None:
            default = next((d for d in self.devices if d.is_default), None)
            wanted = default.host_api if default else (hosts[0] if hosts else None)
        self.host_combo.setCurrentIndex(max(self.host_combo.findData(wanted), 0))
        self.host_combo.setEnabled(len(hosts) > 1)

    def _host_devices(self) -> list[InputDevice]:
        host = self.host_combo.currentData()
        return [d for d in self.devices if d.host_api == host]

    def _fill_devices(self) -> None:
        self.device_combo.clear()
        devices = self._host_devices()
        default = next((d for d in devices if d.is_default), devices[0] if devices else None)
        if default is not None:
            self.device_combo.addItem(f"System default ({default.name})", _DEFAULT)
        for device in devices:
            self.device_combo.addItem(device.name, device.name)
        index = self.device_combo.findData(self.audio.device) if self.audio.device else 0
        self.device_combo.setCurrentIndex(max(index, 0))

    def _fill_formats(self) -> None:
        device = self.selected_device()
        self.rate_combo.clear()
        self.channels_combo.clear()
        if device is None:
            return
        rates = [r for r in dict.fromkeys((*RATES_HZ, device.default_rate_hz))
                 if supports_input(device, r, 1)]
        for rate in rates:
            self.rate_combo.addItem(f"{rate / 1000:g} kHz", rate)
        preferred = [self.audio.sample_rate_hz, *PREFERRED_RATES_HZ, device.default_rate_hz]
        rate = next((r for r in preferred if r in rates), rates[0] if rates else None)
        self.rate_combo.setCurrentIndex(max(self.rate_combo.findData(rate), 0))
        for channels in range(1, min(device.max_input_channels, 2) + 1):
            self.channels_combo.addItem("Mono" if channels == 1 else "Stereo", channels)
        self.channels_combo.setCurrentIndex(
            max(self.channels_combo.findData(min(self.audio.channels, 2)), 0))

    def _check_remembered_device(self) -> None:
        if self.audio.device and self.device_combo.findData(self.audio.device) < 0:
            self._show_message(f"The microphone '{self.audio.device}' is not connected; the "
                               "system default is used. Plug it in and press Rescan.")
        elif self.devices:
            self.message.hide()

    def _show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message.show()

    # -- choices ------------------------------------------------------------------------------
    def selected_device(self) -> InputDevice | None:
        devices = self._host_devices()
        name = self.device_combo.currentData()
        if name is _DEFAULT:
            return next((d for d in devices if d.is_default), devices[0] if devices else None)
        return next((d for d in devices if d.name == name), None)

    def _on_host_changed(self) -> None:
        if self._filling:
            return
        self.audio.host_api = self.host_combo.currentData()
        self.audio.device = None
        self._refill(self._fill_devices, self._fill_formats)
        self._remember()

    def _on_device_changed(self) -> None:
        if self._filling:
            return
        self._refill(self._fill_formats)
        self._remember()

    def _on_format_changed(self) -> None:
        if not self._filling:
            self._remember()

    def _remember(self) -> None:
        audio = self.audio
        audio.host_api = self.host_combo.currentData()
        audio.device = self.device_combo.currentData()
        if self.rate_combo.currentData():
            audio.sample_rate_hz = int(self.rate_combo.currentData())
        if self.channels_combo.currentData():
            audio.channels = int(self.channels_combo.currentData())
        self.message.hide()
        self.changed.emit()

    def resolve(self) -> InputChoice:
        """What to open now (the remembered device, or the default while it is missing)."""
        rate = self.rate_combo.currentData() or self.audio.sample_rate_hz
        channels = self.channels_combo.currentData() or self.audio.channels
        return choose_input(self.audio.device, int(rate), int(channels),
                            host_api=self.audio.host_api)

    def capture_config(self) -> tuple[CaptureConfig, InputChoice]:
        """The recorder's configuration for the current choice; :class:`AudioDeviceError` if none."""
        choice = self.resolve()
        config = CaptureConfig(device=choice.device.index, rate_hz=choice.rate_hz,
                               channels=choice.channels, block_ms=self.audio.block_ms)
        return config, choice

    def set_recording(self, recording: bool) -> None:
        """No changes while a take is recorded (PortAudio cannot rescan under an open stream)."""
        for widget in (self.host_combo, self.device_combo, self.rate_combo, self.channels_combo,
                       self.rescan_button):
            widget.setEnabled(not recording)
        if not recording:
            self.host_combo.setEnabled(self.host_combo.count() > 1)

"""Opening a take for review (no Qt; runs in a worker) and describing it in one line."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from stethoscan.audio.audio_files import read_audio
from stethoscan.audio.clip import AudioClip
from stethoscan.audio.level_metering import amplitude_to_dbfs
from stethoscan.audio.waveform_levels import WaveformLevels

_SUBTYPE_TEXT = {"PCM_16": "16-bit", "PCM_24": "24-bit", "PCM_32": "32-bit", "PCM_U8": "8-bit",
                 "PCM_S8": "8-bit", "FLOAT": "32-bit float", "DOUBLE": "64-bit float"}


@dataclass
class LoadedTake:
    """A clip and the min/max levels of its mono mix (what the waveform draws)."""

    clip: AudioClip
    levels: WaveformLevels

    @classmethod
    def from_clip(cls, clip: AudioClip) -> LoadedTake:
        return cls(clip, WaveformLevels(clip.mono(), clip.rate_hz))


def load_take(path: str | os.PathLike[str], task=None) -> LoadedTake:
    """Read the file and prepare its waveform levels (AudioFileError if unreadable)."""
    if task is not None:
        task.progress(0.1, "Reading the audio file")
    clip = read_audio(path)
    if task is not None:
        task.check_cancelled()
        task.progress(0.7, "Preparing the waveform")
    return LoadedTake.from_clip(clip)


def describe_take(take: LoadedTake) -> str:
    """E.g. ``take.flac · 20.00 s · 44100 Hz · mono · 24-bit FLAC · peak -3.1 dBFS``."""
    clip = take.clip
    channels = "mono" if clip.channels == 1 else f"{clip.channels} channels (mixed for display)"
    depth = _SUBTYPE_TEXT.get(clip.subtype, clip.subtype)
    name = Path(clip.source).name if clip.source else "unsaved clip"
    return (f"{name} · {clip.duration_s:.2f} s · {clip.rate_hz} Hz · {channels} · {depth} "
            f"{clip.format} · peak {round(amplitude_to_dbfs(take.levels.peak), 1) + 0.0:.1f} dBFS").replace("  ", " ")


def take_title(recording) -> str:
    """One line for the take list: number, task, length, status."""
    task = recording.task.replace("_", " ")
    status = "" if recording.status == "complete" else f" · {recording.status}"
    when = recording.created_at[:16].replace("T", " ")
    return f"Take {recording.take} · {task} · {recording.duration_s:.1f} s{status} · {when}"

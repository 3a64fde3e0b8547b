"""Typed errors whose message a clinician can act on.

Every error raised by GUI-free code derives from :class:`StethoscanError`. ``str(err)`` is the
message shown to the user: it says what happened and what to do about it.
"""

from __future__ import annotations


class StethoscanError(Exception):
    """Base class: ``str(err)`` is a complete, actionable sentence for the user."""


class Cancelled(StethoscanError):
    """The user cancelled a long-running task."""

    def __init__(self, message: str = "Cancelled by the user.") -> None:
        super().__init__(message)


# --- imaging -------------------------------------------------------------------------------
class DicomError(StethoscanError):
    """A DICOM file or study could not be read or interpreted."""


class NotDicomError(DicomError):
    """The file is not a DICOM file."""


class UnsupportedTransferSyntaxError(DicomError):
    """Pixel data uses a transfer syntax no installed decoder handles."""


class SeriesGeometryError(DicomError):
    """Slices of a series cannot be assembled into a volume."""


# --- audio ---------------------------------------------------------------------------------
class AudioError(StethoscanError):
    """Base class for audio problems."""


class AudioFileError(AudioError):
    """An audio file is unreadable, empty or of an unsupported format."""


class AudioDeviceError(AudioError):
    """The microphone is missing, unplugged, busy or failing."""


# --- models --------------------------------------------------------------------------------
class ModelPackageError(StethoscanError):
    """A model package failed a check and was refused.

    ``check`` names the failed check (e.g. ``"sha256"``, ``"pickle"``, ``"architecture"``).
    """

    def __init__(self, message: str, check: str = "package") -> None:
        super().__init__(message)
        self.check = check


class InputMismatchError(StethoscanError):
    """The input does not fit what the model expects, so a result would be meaningless."""


# --- data ----------------------------------------------------------------------------------
class RecordsError(StethoscanError):
    """The patient database could not be read or written."""


class ValidationError(StethoscanError):
    """A value entered by the user is outside its valid range."""


class TrainingDataError(StethoscanError):
    """Training or evaluation data is missing, malformed or unlabelled."""

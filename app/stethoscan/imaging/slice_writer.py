"""Put decoded slices into a :class:`Volume` being loaded, and report the load's progress."""

from __future__ import annotations

import time

import numpy as np

from stethoscan.core.task import Task
from stethoscan.imaging.pixel_decoding import DecodedImage
from stethoscan.imaging.volume import Volume


class SliceWriter:
    """Puts decoded slices into the volume, keeping one stored type and one rescale.

    When a slice's rescale differs from the volume's (e.g. PET with per-slice slopes) or its
    values do not fit the stored type, the volume switches once to float32 physical values.
    """

    def __init__(self, volume: Volume, first: DecodedImage) -> None:
        self.volume = volume
        self.failures: dict[int, str] = {}
        self._shape = first.pixels.shape

    @property
    def physical(self) -> bool:
        return self.volume.voxels.dtype == np.float32 and self.volume.slope == 1.0 and (
            self.volume.intercept == 0.0)

    def accepts_raw(self, slope: float, intercept: float) -> bool:
        """Whether raw stored values with this rescale can go straight into the volume."""
        v = self.volume
        return (slope, intercept) == (v.slope, v.intercept) and v.voxels.dtype != np.float32

    def put(self, k: int, image: DecodedImage) -> None:
        if image.pixels.shape != self._shape:
            self.failures[k] = (f"its size {image.pixels.shape} differs from the series "
                                f"{self._shape}.")
            return
        v = self.volume
        if not self._fits(image):
            self._switch_to_physical()
        if v.is_rgb or self._same_rescale(image):
            v.voxels[k] = image.pixels
        else:
            v.voxels[k] = image.pixels.astype(np.float32) * np.float32(image.slope) + np.float32(
                image.intercept)
        v.loaded[k] = True

    def fail(self, k: int, error: object) -> None:
        """Record why slice ``k`` is left blank (an OSError or a DicomError)."""
        if isinstance(error, OSError):
            self.failures[k] = f"the file could not be read ({error.strerror or error})."
        else:
            self.failures[k] = str(error)

    def mark_loaded(self, k: int) -> None:
        self.volume.loaded[k] = True

    def _same_rescale(self, image: DecodedImage) -> bool:
        return (image.slope, image.intercept) == (self.volume.slope, self.volume.intercept)

    def _fits(self, image: DecodedImage) -> bool:
        v = self.volume
        if v.is_rgb or (v.voxels.dtype == np.float32 and self.physical):
            return True
        if not self._same_rescale(image):
            return False
        target, source = v.voxels.dtype, image.pixels.dtype
        if np.can_cast(source, target, casting="safe"):
            return True
        if source.kind not in "iu" or target.kind not in "iu":
            return False
        info = np.iinfo(target)
        return bool(image.pixels.min() >= info.min and image.pixels.max() <= info.max)

    def _switch_to_physical(self) -> None:
        v = self.volume
        if self.physical:
            return
        physical = np.zeros(v.voxels.shape, dtype=np.float32)
        for k in np.flatnonzero(v.loaded):
            physical[k] = v.voxels[k] * np.float32(v.slope) + np.float32(v.intercept)
        v.voxels, v.slope, v.intercept = physical, 1.0, 0.0


class LoadProgress:
    """Rate-limited progress (at most every 50 ms) plus cancellation checks."""

    def __init__(self, task: Task, total: int, done: int) -> None:
        self.task, self.total, self.done = task, total, done
        self._last = 0.0

    def advance(self, n: int = 1) -> None:
        self.done += n
        self.task.check_cancelled()
        now = time.monotonic()
        if now - self._last >= 0.05:
            self._last = now
            self.task.progress(self.done / self.total, f"Loading slice {self.done} of {self.total}")


def place_decoded(k: int, result: object, writer: SliceWriter) -> None:
    """Put a decoder's result (an image, or the error it raised) into the volume."""
    if isinstance(result, DecodedImage):
        writer.put(k, result)
    else:
        writer.fail(k, result)

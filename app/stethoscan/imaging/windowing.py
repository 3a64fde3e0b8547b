"""Window/level: CT presets, automatic windows and the DICOM linear window function.

Windows are (center, width) in physical units (HU for CT). :func:`apply_window` maps stored
values (with their rescale slope/intercept) to display grey levels 0..255 using the linear
function of DICOM PS3.3 C.11.2.1.2.1, through a cached lookup table for 8/16-bit data so a
512x512 slice takes about a millisecond.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from stethoscan.core.errors import ValidationError


@dataclass(frozen=True)
class WindowPreset:
    name: str
    center: float  # physical units (HU for CT)
    width: float
    label: str


# CT window settings (W/L) as listed by Radiopaedia, "Windowing (CT)",
# https://radiopaedia.org/articles/windowing-ct (head: brain W80 L40, subdural W130-300 L50-100,
# stroke W8 L32 or W40 L40; chest: lungs W1500 L-600, mediastinum W350 L50; bone W1800 L400;
# abdomen soft tissues W400 L50 (we use L40), liver W150 L30; W160 L60 is the common liver
# preset of clinical viewers). The alternatives are kept as separate presets.
CT_PRESETS: dict[str, WindowPreset] = {
    p.name: p
    for p in (
        WindowPreset("brain", 40, 80, "Brain"),
        WindowPreset("subdural", 75, 215, "Subdural"),
        WindowPreset("subdural-narrow", 50, 130, "Subdural (narrow)"),
        WindowPreset("stroke", 32, 8, "Stroke"),
        WindowPreset("stroke-wide", 40, 40, "Stroke (wide)"),
        WindowPreset("lung", -600, 1500, "Lung"),
        WindowPreset("mediastinum", 50, 350, "Mediastinum"),
        WindowPreset("bone", 400, 1800, "Bone"),
        WindowPreset("bone-narrow", 300, 1500, "Bone (narrow)"),
        WindowPreset("abdomen", 40, 400, "Abdomen"),
        WindowPreset("liver", 60, 160, "Liver"),
    )
}


def presets_for(modality: str) -> dict[str, WindowPreset]:
    """Fixed presets for ``modality``; empty for MR and others, which use :func:`auto_window`."""
    return dict(CT_PRESETS) if modality.upper() == "CT" else {}


def find_preset(name: str, modality: str = "CT") -> WindowPreset:
    """The preset called ``name`` (case-insensitive) for ``modality``."""
    presets = presets_for(modality or "CT") or CT_PRESETS
    preset = presets.get(name.strip().lower())
    if preset is None:
        raise ValidationError(
            f"Unknown window preset '{name}'. Choose one of: {', '.join(sorted(presets))}."
        )
    return preset


def auto_window(
    stored: np.ndarray,
    slope: float = 1.0,
    intercept: float = 0.0,
    percentiles: tuple[float, float] = (0.5, 99.8),
    max_samples: int = 1_000_000,
) -> tuple[float, float]:
    """A robust (center, width) in physical units from percentiles of the values.

    A background that fills more than 10 % of the samples at the minimum value (air around an
    MR head) is left out so that the window spans the anatomy.
    """
    flat = np.asarray(stored).reshape(-1)
    step = max(1, flat.size // max_samples)
    sample = flat[::step].astype(np.float64)
    sample = sample[np.isfinite(sample)]
    if sample.size == 0:
        return intercept, 1.0
    lowest = sample.min()
    foreground = sample[sample > lowest]
    if foreground.size and (sample.size - foreground.size) > 0.1 * sample.size:
        sample = foreground
    lo, hi = np.percentile(sample, percentiles)
    if hi <= lo:
        lo, hi = float(sample.min()), float(sample.max())
    lo, hi = lo * slope + intercept, hi * slope + intercept
    lo, hi = min(lo, hi), max(lo, hi)
    return float((lo + hi) / 2.0), float(max(hi - lo, 1.0))


def window_from_lut(inputs: np.ndarray, outputs: np.ndarray) -> tuple[float, float] | None:
    """The linear (center, width) that best reproduces a VOI LUT, in the LUT's input units.

    ``outputs[k]`` is the LUT's value for input ``inputs[k]`` (physical units, after the
    modality LUT). The outputs are scaled to the LUT's own minimum..maximum (black..white) and
    a straight line is fitted (least squares) to the entries between the last one at black and
    the first one at white: exact for a linear LUT, the best straight approximation of a curved
    one. None when the LUT does not rise (flat or decreasing).
    """
    x = np.asarray(inputs, dtype=np.float64)
    y = np.asarray(outputs, dtype=np.float64)
    if x.size < 2 or y.max() <= y.min():
        return None
    y = (y - y.min()) / (y.max() - y.min())
    start = int(np.flatnonzero(y == 0.0)[-1])
    stop = int(np.flatnonzero(y == 1.0)[0])
    if stop <= start:
        return None
    slope, offset = np.polyfit(x[start:stop + 1], y[start:stop + 1], 1)
    if slope <= 0:
        return None
    black, white = -offset / slope, (1.0 - offset) / slope
    # PS3.3 C.11.2.1.2.1: black at c - 0.5 - (w - 1) / 2, white at c - 0.5 + (w - 1) / 2
    return float((black + white) / 2.0 + 0.5), float(white - black + 1.0)


def linear_window(x: np.ndarray, center: float, width: float) -> np.ndarray:
    """DICOM PS3.3 C.11.2.1.2.1 linear window function: physical values -> float 0..255."""
    width = max(float(width), 1.0)
    x = np.asarray(x, dtype=np.float64)
    if width == 1.0:  # the formula divides by (w - 1): a step at c - 0.5
        return np.where(x <= center - 0.5, 0.0, 255.0)
    y = ((x - (center - 0.5)) / (width - 1.0) + 0.5) * 255.0
    return np.clip(y, 0.0, 255.0)


@functools.lru_cache(maxsize=32)
def _window_lut(dtype: str, center: float, width: float, slope: float, intercept: float,
                invert: bool) -> np.ndarray:
    """uint8 table indexed by the stored value's bits (viewed as unsigned)."""
    kind = np.dtype(dtype)
    unsigned = np.dtype(f"u{kind.itemsize}")
    values = np.arange(2 ** (8 * kind.itemsize), dtype=np.int64).astype(unsigned).view(kind)
    return _grey_levels(linear_window(values.astype(np.float64) * slope + intercept, center,
                                      width), invert)


def _grey_levels(grey: np.ndarray, invert: bool) -> np.ndarray:
    """Float grey values 0..255 rounded to uint8, inverted for MONOCHROME1 display."""
    levels = np.floor(grey + 0.5).astype(np.uint8)
    return 255 - levels if invert else levels


def apply_window(
    stored: np.ndarray,
    center: float,
    width: float,
    slope: float = 1.0,
    intercept: float = 0.0,
    invert: bool = False,
) -> np.ndarray:
    """Grey levels (uint8) of stored values shown with window (center, width) in physical units."""
    stored = np.asarray(stored)
    if stored.dtype.kind in "iu" and stored.dtype.itemsize <= 2:
        lut = _window_lut(stored.dtype.str, float(center), float(width), float(slope),
                          float(intercept), bool(invert))
        index = stored.view(np.dtype(f"u{stored.dtype.itemsize}"))
        return np.take(lut, index)
    return _grey_levels(linear_window(stored.astype(np.float64) * slope + intercept, center,
                                      width), invert)

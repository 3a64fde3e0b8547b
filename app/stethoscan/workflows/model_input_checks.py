"""Checks of an input against a model package's manifest, before the model runs.

Each check returns warning sentences (shown beside the result) or raises
:class:`InputMismatchError` when a result would be meaningless.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from stethoscan.core.errors import InputMismatchError

MAX_UPSAMPLING_FACTOR = 8.0  # voxels this much coarser than the model's: refused
WARN_UPSAMPLING_FACTOR = 2.5  # coarser by more than this: a warning (detail is interpolated)
WARN_DOWNSAMPLING_FACTOR = 8.0  # finer by more than this: a warning (small findings may vanish)


@dataclass
class ScanHints:
    """Header text that tells what a scan shows (DICOM Modality, BodyPartExamined, ...)."""

    modality: str = ""
    body_part: str = ""
    description: str = ""  # StudyDescription and SeriesDescription


def read_scan_hints(path: str | Path | None) -> ScanHints:
    """Modality, BodyPartExamined and descriptions from one DICOM file's header."""
    if path is None:
        return ScanHints()
    import pydicom
    from pydicom.errors import InvalidDicomError

    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    except (OSError, InvalidDicomError, ValueError):
        return ScanHints()
    text = " ".join(str(ds.get(k, "")) for k in ("StudyDescription", "SeriesDescription"))
    return ScanHints(str(ds.get("Modality", "")), str(ds.get("BodyPartExamined", "")), text.strip())


def check_modality(modality: str, expected: Sequence[str], model_name: str) -> None:
    """Refuse a scan of another modality (e.g. CT given to an MR model)."""
    if modality and expected and modality.upper() not in [m.upper() for m in expected]:
        raise InputMismatchError(
            f"{model_name} was made for {' or '.join(expected)} scans, but this series is "
            f"{modality}: a result would be meaningless. Choose a {expected[0]} series or "
            "another model."
        )


def check_body_part(hints: ScanHints, expected: Sequence[str]) -> list[str]:
    """Warn when the header names a body part the model was not made for."""
    if not expected:
        return []
    wanted = [e.upper() for e in expected]
    said = f"{hints.body_part} {hints.description}".upper()
    if not said.strip():
        return [f"The scan's header does not say which body part it shows; this model expects "
                f"{', '.join(expected).lower()}."]  # fmt: skip
    if any(w in said for w in wanted):
        return []
    shown = hints.body_part or hints.description
    return [f"The scan's header says {shown!r}, but this model was made for "
            f"{', '.join(expected).lower()}: check that the result makes sense."]  # fmt: skip


def check_spacing(spacing_mm: Sequence[float], target_mm: Sequence[float] | None) -> list[str]:
    """Refuse a voxel spacing too far from the model's to resample; warn when it is far."""
    if not target_mm:
        return []
    factors = [s / t for s, t in zip(spacing_mm, target_mm, strict=True) if s > 0 and t > 0]
    coarser = max(factors, default=1.0)  # > 1: the scan's voxels are larger than the model's
    finer = max((1 / f for f in factors), default=1.0)
    given = " x ".join(f"{s:.2f}" for s in spacing_mm)
    wanted = " x ".join(f"{t:.2f}" for t in target_mm)
    if coarser > MAX_UPSAMPLING_FACTOR:
        raise InputMismatchError(
            f"The voxel spacing {given} mm is {coarser:.0f} times coarser than the model's "
            f"{wanted} mm: it cannot be resampled sensibly. Choose a series with thinner slices."
        )
    if coarser > WARN_UPSAMPLING_FACTOR:
        return [f"The voxel spacing {given} mm is {coarser:.1f} times coarser than the model's "
                f"{wanted} mm; the missing detail was interpolated."]  # fmt: skip
    if finer > WARN_DOWNSAMPLING_FACTOR:
        return [f"The voxel spacing {given} mm was reduced {finer:.0f}-fold to the model's "
                f"{wanted} mm; findings smaller than a model voxel may not count."]  # fmt: skip
    return []


def check_recording(duration_s: float, rate_hz: int, min_duration_s: float,
                    min_rate_hz: int | None, model_rate_hz: int, model_fmax_hz: float | None
                    ) -> list[str]:  # fmt: skip
    """Refuse too short or too coarsely sampled recordings; warn when bands are missing."""
    if duration_s < min_duration_s:
        raise InputMismatchError(
            f"The recording is {duration_s:.1f} s long; this model needs at least "
            f"{min_duration_s:.1f} s. Record a longer take."
        )
    if min_rate_hz and rate_hz < min_rate_hz:
        raise InputMismatchError(
            f"The recording was sampled at {rate_hz} Hz; this model needs at least "
            f"{min_rate_hz} Hz. Record again at a higher sample rate."
        )
    warnings = []
    if model_fmax_hz and rate_hz / 2 < model_fmax_hz:
        warnings.append(
            f"The recording ({rate_hz} Hz) holds no sound above {rate_hz / 2:.0f} Hz, but the "
            f"model looks at frequencies up to {model_fmax_hz:.0f} Hz; the result may be less "
            "reliable."
        )
    if rate_hz < model_rate_hz:
        warnings.append(f"The recording was upsampled from {rate_hz} Hz to {model_rate_hz} Hz.")
    return warnings

"""Where each image of a series lies in the patient, and in which order the slices go.

Slices are ordered along the slice normal ``cross(row, column)`` of Image Orientation (Patient)
by projecting Image Position (Patient) onto it, the way the scanner means them; instance numbers
and file names are only a fallback when the headers carry no geometry. The spacing between slices
comes from those projections, and the stack is checked for gantry tilt, uneven spacing, missing
slices and single images. Enhanced multi-frame CT/MR get one position per frame from their
per-frame and shared functional groups. Lengths in mm, angles in degrees.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from functools import lru_cache
from typing import TYPE_CHECKING, Any

import numpy as np

from stethoscan.imaging.model import InstanceRef

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

Orientation = tuple[float, float, float, float, float, float]
Position = tuple[float, float, float]

TILT_WARNING_DEG = 0.5  # rounding of positions stays far below this; real tilts are degrees
GAP_FACTOR = 1.5  # a step this many times the median step means slices are missing
UNEVEN_RELATIVE = 0.02  # steps may differ from the median by 2 % ...
UNEVEN_ABSOLUTE_MM = 0.01  # ... or 0.01 mm, whichever is larger
MAX_LISTED_GAPS = 5


@dataclass
class FrameAttributes:
    """Geometry and dimension values of one frame (or of a single-frame image)."""

    position_mm: Position | None = None
    orientation: Orientation | None = None
    pixel_spacing_mm: tuple[float, float] | None = None
    slice_thickness_mm: float | None = None
    stack_id: str = ""
    in_stack_position: int | None = None
    temporal_index: int | None = None
    echo_time_ms: float | None = None
    b_value: float | None = None


@dataclass
class StackGeometry:
    """A series' instances in spatial order, its spacing and what is odd about it."""

    instances: list[InstanceRef]
    slice_spacing_mm: float | None = None
    orientation: Orientation | None = None
    warnings: list[str] = field(default_factory=list)


# --- reading values -------------------------------------------------------------------------
_ASCII_VRS = frozenset({"AE", "AS", "CS", "DA", "DS", "DT", "IS", "TM", "UI"})
_BINARY_FORMATS = {"US": "H", "SS": "h", "UL": "I", "SL": "i", "FL": "f", "FD": "d"}
_TEXT_VRS = frozenset({"LO", "SH", "PN"})


@lru_cache(maxsize=256)
def _tag_and_vr(keyword: str) -> tuple[int, str]:
    from pydicom.datadict import dictionary_VR, tag_for_keyword

    tag = tag_for_keyword(keyword)
    if tag is None:
        raise KeyError(keyword)
    return tag, dictionary_VR(tag)


def header_value(ds: Dataset, keyword: str) -> Any:
    """A header value, decoded straight from the raw bytes where that is safe, which is several
    times faster than pydicom's conversion: ASCII and binary numbers, and text in a character
    set without ISO 2022 code extensions. Everything else goes through pydicom. Multi-values
    come as lists."""
    tag, vr = _tag_and_vr(keyword)
    element = ds.get_item(tag)
    if element is None:
        return None
    raw = element.value
    if not isinstance(raw, bytes) or (element.VR not in (None, vr)):
        return ds.get(keyword)
    if vr in _ASCII_VRS:
        return _split_text(raw.decode("ascii", errors="replace"))
    if vr in _BINARY_FORMATS:
        return _binary_values(raw, _BINARY_FORMATS[vr], ds)
    codec = _text_codec(ds) if vr in _TEXT_VRS else None
    if codec is None:
        return ds.get(keyword)
    value = _split_text(raw.decode(codec, errors="replace"))
    if vr == "PN":  # as pydicom shows names: without empty trailing component groups
        return [v.rstrip("=") for v in value] if isinstance(value, list) else value.rstrip("=")
    return value


def _split_text(text: str) -> str | list[str]:
    parts = [p.strip(" \x00") for p in text.strip(" \x00").split("\\")]
    return parts[0] if len(parts) == 1 else parts


def _binary_values(raw: bytes, code: str, ds: Dataset) -> Any:
    little = getattr(ds, "original_encoding", (True, True))[1]
    size = struct.calcsize(code)
    count = len(raw) // size
    values = struct.unpack(f"{'<' if little else '>'}{count}{code}", raw[: count * size])
    return None if count == 0 else values[0] if count == 1 else list(values)


def _text_codec(ds: Dataset) -> str | None:
    """Python codec of the data set's character set, if it needs no ISO 2022 escapes."""
    charset = header_value(ds, "SpecificCharacterSet") or ""
    if not isinstance(charset, str) or charset.startswith("ISO 2022") or charset == "ISO_IR 13":
        return None
    from pydicom.charset import python_encoding

    codec = python_encoding.get(charset)
    return "latin_1" if codec == "iso8859" else codec


def floats(value: Any, count: int) -> tuple[float, ...] | None:
    """``count`` finite floats from a DICOM multi-value, or None if it does not hold them."""
    if value is None or isinstance(value, str | bytes):
        return None
    try:
        numbers = tuple(float(v) for v in value)
    except (TypeError, ValueError):
        return None
    if len(numbers) != count or not all(np.isfinite(numbers)):
        return None
    return numbers


def number(value: Any) -> float | None:
    """A finite float from a DICOM value, or None."""
    if value is None or value == "":
        return None
    try:
        result = float(value)
    except (TypeError, ValueError):
        return None
    return result if np.isfinite(result) else None


def valid_orientation(values: tuple[float, ...] | None) -> Orientation | None:
    """Row and column cosines if they are two non-zero, roughly perpendicular vectors."""
    if values is None:
        return None
    row, col = np.asarray(values[:3]), np.asarray(values[3:])
    row_norm, col_norm = np.linalg.norm(row), np.linalg.norm(col)
    if row_norm < 1e-6 or col_norm < 1e-6:
        return None
    if abs(float(np.dot(row / row_norm, col / col_norm))) > 0.05:
        return None
    return values  # type: ignore[return-value]


def slice_normal(orientation: Orientation) -> np.ndarray:
    """Unit vector ``cross(row, column)`` (patient LPS)."""
    row = np.asarray(orientation[:3], dtype=float)
    col = np.asarray(orientation[3:], dtype=float)
    normal = np.cross(row / np.linalg.norm(row), col / np.linalg.norm(col))
    return normal / np.linalg.norm(normal)


def plane_name(orientation: Orientation | None) -> str:
    """"axial", "coronal", "sagittal", "oblique" (no clear main plane) or "" (unknown)."""
    if orientation is None:
        return ""
    normal = np.abs(slice_normal(orientation))
    if normal.max() < 0.8:
        return "oblique"
    return ("sagittal", "coronal", "axial")[int(np.argmax(normal))]


def orientation_label(orientation: Orientation | None) -> str:
    """"axial images", "coronal images tilted 12°", "oblique images" or "images of unknown
    orientation", for telling split parts apart."""
    name = plane_name(orientation)
    if not name:
        return "images of unknown orientation"
    if name == "oblique":
        return "oblique images"
    tilt = float(np.degrees(np.arccos(min(1.0, np.abs(slice_normal(orientation)).max()))))
    return f"{name} images tilted {tilt:.0f}°" if tilt >= 1.0 else f"{name} images"


def same_orientation(a: Orientation, b: Orientation, tolerance: float = 1e-3) -> bool:
    """Whether two orientations agree (direction cosines within ``tolerance``)."""
    return a == b or max(abs(x - y) for x, y in zip(a, b, strict=True)) <= tolerance


# --- per-frame geometry of multi-frame files ------------------------------------------------
def frame_attributes(ds: Dataset, frames: int) -> list[FrameAttributes]:
    """Geometry of each frame of ``ds``.

    Enhanced objects: from the per-frame functional groups, falling back to the shared ones.
    RT Dose: Image Position plus Grid Frame Offset Vector. Other multi-frame images (cine,
    ultrasound loops) have one position for all frames, which does not place the frames, so
    they get none.
    """
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    shared_items = ds.get("SharedFunctionalGroupsSequence")
    shared = shared_items[0] if shared_items else None
    if per_frame is not None or shared is not None:
        return [_functional_group_frame(_item(per_frame, k), shared, ds) for k in range(frames)]
    base = _classic_attributes(ds)
    if frames == 1:
        return [base]
    offsets = floats(header_value(ds, "GridFrameOffsetVector"), frames)
    if offsets is not None and base.position_mm is not None and base.orientation is not None:
        return [_dose_frame(base, offsets, k) for k in range(frames)]
    return [FrameAttributes(orientation=base.orientation, pixel_spacing_mm=base.pixel_spacing_mm,
                            slice_thickness_mm=base.slice_thickness_mm) for _ in range(frames)]


def _item(sequence: Any, index: int) -> Any:
    if sequence is None or index >= len(sequence):
        return None
    return sequence[index]


def _classic_attributes(ds: Dataset) -> FrameAttributes:
    spacing = floats(header_value(ds, "PixelSpacing"), 2)
    return FrameAttributes(
        position_mm=floats(header_value(ds, "ImagePositionPatient"), 3),  # type: ignore[arg-type]
        orientation=valid_orientation(floats(header_value(ds, "ImageOrientationPatient"), 6)),
        pixel_spacing_mm=spacing if spacing and min(spacing) > 0 else None,  # type: ignore[arg-type]
        slice_thickness_mm=number(header_value(ds, "SliceThickness")),
        temporal_index=_int(header_value(ds, "TemporalPositionIdentifier")),
        echo_time_ms=number(header_value(ds, "EchoTime")),
        b_value=number(header_value(ds, "DiffusionBValue")),
    )


def _dose_frame(base: FrameAttributes, offsets: tuple[float, ...], k: int) -> FrameAttributes:
    """RT Dose frame k: offsets are relative to the first frame when the first one is 0."""
    normal = slice_normal(base.orientation)  # type: ignore[arg-type]
    origin = np.asarray(base.position_mm, dtype=float)
    if offsets[0] == 0.0:
        position = origin + offsets[k] * normal
    else:  # absolute coordinates along the normal (transverse dose grids)
        position = origin + (offsets[k] - offsets[0]) * normal
    return FrameAttributes(position_mm=tuple(float(v) for v in position),  # type: ignore[arg-type]
                           orientation=base.orientation, pixel_spacing_mm=base.pixel_spacing_mm,
                           slice_thickness_mm=base.slice_thickness_mm)


def _functional_group_frame(frame: Any, shared: Any, ds: Dataset) -> FrameAttributes:
    def first(group: str, keyword: str) -> Any:
        for source in (frame, shared):
            items = source.get(group) if source is not None else None
            if items and keyword in items[0]:
                return items[0].get(keyword)
        return None

    spacing = floats(first("PixelMeasuresSequence", "PixelSpacing"), 2)
    echo = first("MREchoSequence", "EffectiveEchoTime")
    return FrameAttributes(
        position_mm=floats(first("PlanePositionSequence", "ImagePositionPatient"), 3),  # type: ignore[arg-type]
        orientation=valid_orientation(
            floats(first("PlaneOrientationSequence", "ImageOrientationPatient"), 6)),
        pixel_spacing_mm=spacing if spacing and min(spacing) > 0 else None,  # type: ignore[arg-type]
        slice_thickness_mm=number(first("PixelMeasuresSequence", "SliceThickness")),
        stack_id=str(first("FrameContentSequence", "StackID") or ""),
        in_stack_position=_int(first("FrameContentSequence", "InStackPositionNumber")),
        temporal_index=_int(first("FrameContentSequence", "TemporalPositionIndex")),
        echo_time_ms=number(echo if echo is not None else ds.get("EchoTime")),
        b_value=number(first("MRDiffusionSequence", "DiffusionBValue")),
    )


def _int(value: Any) -> int | None:
    result = number(value)
    return int(result) if result is not None and float(result).is_integer() else None


# --- ordering a stack ----------------------------------------------------------------------
def order_slices(instances: list[InstanceRef]) -> StackGeometry:
    """Order ``instances`` along the slice normal and describe the spacing.

    Without complete geometry (any image lacking position or orientation) the images are
    ordered by instance number, then file and frame, with a warning.
    """
    if not instances:
        return StackGeometry(instances=[])
    orientation = instances[0].orientation
    spatial = all(i.position_mm is not None and i.orientation is not None for i in instances)
    if not spatial:
        return _fallback_order(instances, orientation)
    normal = slice_normal(orientation)  # type: ignore[arg-type]
    positions = np.array([i.position_mm for i in instances], dtype=float)
    along = positions @ normal
    tiebreak = [_fallback_key(i) for i in instances]
    order = sorted(range(len(instances)), key=lambda k: (along[k], tiebreak[k]))
    ordered = [instances[k] for k in order]
    geometry = StackGeometry(instances=ordered, orientation=orientation)
    if len(ordered) == 1:
        geometry.warnings.append(single_image_warning())
        return geometry
    steps = np.diff(along[order])
    geometry.slice_spacing_mm, spacing_warnings = describe_spacing(steps)
    geometry.warnings.extend(spacing_warnings)
    tilt = tilt_angle_deg(positions[order[0]], positions[order[-1]], normal)
    if tilt is not None and tilt > TILT_WARNING_DEG:
        geometry.warnings.append(
            f"Gantry tilt of {tilt:.1f}°: the slices are not stacked perpendicular to their "
            "plane, so three-plane views and distances across slices are approximate."
        )
    return geometry


def _fallback_key(instance: InstanceRef) -> tuple:
    number_missing = instance.instance_number is None
    return (number_missing, instance.instance_number or 0, instance.path, instance.frame or 0)


def _fallback_order(instances: list[InstanceRef], orientation: Orientation | None
                    ) -> StackGeometry:
    ordered = sorted(instances, key=_fallback_key)
    if len(ordered) == 1:
        return StackGeometry(instances=ordered, orientation=orientation,
                             warnings=[single_image_warning()])
    warning = ("No slice positions in the headers: the images are shown in instance-number "
               "order, and distances across images are unknown (2D viewing only).")
    return StackGeometry(instances=ordered, orientation=orientation, warnings=[warning])


def single_image_warning() -> str:
    return "A single image: shown in 2D only (no three-plane views)."


def tilt_angle_deg(first: np.ndarray, last: np.ndarray, normal: np.ndarray) -> float | None:
    """Angle (degrees) between the slice normal and the line through the first and last slice."""
    step = np.asarray(last, dtype=float) - np.asarray(first, dtype=float)
    length = float(np.linalg.norm(step))
    if length < 1e-6:
        return None
    cosine = min(1.0, abs(float(np.dot(step / length, normal))))
    return float(np.degrees(np.arccos(cosine)))


def describe_spacing(steps_mm: np.ndarray) -> tuple[float | None, list[str]]:
    """Slice spacing (median step, mm) and warnings about duplicates, gaps and uneven steps."""
    steps = np.asarray(steps_mm, dtype=float)
    if steps.size == 0:
        return None, []
    positive = steps[steps > UNEVEN_ABSOLUTE_MM]
    if positive.size == 0:
        return None, ["All images lie at the same position: there is no slice spacing, so the "
                      "series is shown in 2D only."]
    spacing = float(np.median(positive))
    warnings: list[str] = []
    duplicates = int(np.sum(steps <= UNEVEN_ABSOLUTE_MM))
    if duplicates:
        warnings.append(f"{duplicates} images lie at the same position as their neighbour.")
    gaps = [k for k, step in enumerate(steps) if step > GAP_FACTOR * spacing]
    warnings.extend(_gap_warnings(steps, gaps, spacing))
    tolerance = max(UNEVEN_ABSOLUTE_MM, UNEVEN_RELATIVE * spacing)
    regular = np.array([s for k, s in enumerate(steps) if k not in gaps and s > UNEVEN_ABSOLUTE_MM])
    if regular.size and np.max(np.abs(regular - spacing)) > tolerance:
        warnings.append(
            f"Uneven slice spacing: steps from {regular.min():.2f} to {regular.max():.2f} mm "
            f"(median {spacing:.2f} mm); distances across slices are approximate."
        )
    return spacing, warnings


def _gap_warnings(steps: np.ndarray, gaps: list[int], spacing: float) -> list[str]:
    warnings = []
    for k in gaps[:MAX_LISTED_GAPS]:
        missing = max(1, int(round(steps[k] / spacing)) - 1)
        warnings.append(
            f"Missing slices between slice {k + 1} and {k + 2}: a gap of {steps[k]:.2f} mm "
            f"where {spacing:.2f} mm is expected (about {missing} slice"
            f"{'s' if missing > 1 else ''} missing)."
        )
    if len(gaps) > MAX_LISTED_GAPS:
        warnings.append(f"... and {len(gaps) - MAX_LISTED_GAPS} more gaps between slices.")
    return warnings

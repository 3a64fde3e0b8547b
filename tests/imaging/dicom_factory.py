"""Small, valid, synthetic DICOM files for tests (written with pydicom, no real patient).

Everything is uncompressed Explicit VR Little Endian unless a test re-encodes it. Pixel values
tell slices apart: by default slice ``k`` (in spatial order) holds ``k * 10`` plus a small
in-plane pattern, so a test can check that a volume came out in the right order.

Main entry points:

* :func:`write_series` - a stack of single-frame CT/MR images with any orientation, spacing,
  gantry tilt, missing slices, explicit offsets and shuffled instance numbers / file names;
* :func:`write_multi_echo_series` - an MR series with several echoes at the same positions;
* :func:`write_enhanced_mr` - one enhanced multi-frame MR file with per-frame positions;
* :func:`make_image` - one image as a pydicom dataset, for anything else.
"""

from __future__ import annotations

import math
import random
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.sequence import Sequence as DicomSequence
from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid

CT_IMAGE = "1.2.840.10008.5.1.4.1.1.2"
MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4"
ENHANCED_MR_IMAGE = "1.2.840.10008.5.1.4.1.1.4.1"
SOP_CLASS = {"CT": CT_IMAGE, "MR": MR_IMAGE}

AXIAL = (1.0, 0.0, 0.0, 0.0, 1.0, 0.0)
CORONAL = (1.0, 0.0, 0.0, 0.0, 0.0, -1.0)
SAGITTAL = (0.0, 1.0, 0.0, 0.0, 0.0, -1.0)

PixelFunction = Callable[[int, int, int], np.ndarray]


def default_pixels(k: int, rows: int, cols: int) -> np.ndarray:
    """Slice ``k``: ``k * 10`` plus a small diagonal pattern (int16)."""
    pattern = np.add.outer(np.arange(rows), np.arange(cols)) % 7
    return (k * 10 + pattern).astype(np.int16)


def tilted_orientation(tilt_deg: float) -> tuple[float, ...]:
    """Axial rows, with the columns tilted about the x axis by ``tilt_deg`` (gantry tilt)."""
    angle = math.radians(tilt_deg)
    return (1.0, 0.0, 0.0, 0.0, math.cos(angle), math.sin(angle))


def slice_normal(orientation: Sequence[float]) -> np.ndarray:
    normal = np.cross(np.asarray(orientation[:3], float), np.asarray(orientation[3:], float))
    return normal / np.linalg.norm(normal)


def make_image(
    *,
    rows: int = 16,
    cols: int = 16,
    pixels: np.ndarray | None = None,
    modality: str = "CT",
    position: Sequence[float] | None = (0.0, 0.0, 0.0),
    orientation: Sequence[float] | None = AXIAL,
    pixel_spacing: Sequence[float] | None = (0.5, 0.5),
    slice_thickness: float | None = 1.0,
    instance_number: int | None = 1,
    series_uid: str | None = None,
    study_uid: str | None = None,
    sop_uid: str | None = None,
    patient_id: str = "FACTORY-0001",
    patient_name: str = "Factory^Test",
    series_number: int = 1,
    series_description: str = "synthetic",
    rescale: tuple[float, float] | None = None,
    extra: dict | None = None,
) -> Dataset:
    """One single-frame image; ``extra`` sets further keywords (e.g. ``EchoTime``)."""
    ds = Dataset()
    sop_class = SOP_CLASS.get(modality, CT_IMAGE)
    sop_uid = sop_uid or generate_uid()
    ds.file_meta = _file_meta(sop_class, sop_uid)
    ds.SOPClassUID, ds.SOPInstanceUID = sop_class, sop_uid
    ds.PatientID, ds.PatientName = patient_id, patient_name
    ds.PatientBirthDate, ds.PatientSex = "19700101", "O"
    ds.StudyInstanceUID = study_uid or generate_uid()
    ds.StudyDate, ds.StudyTime, ds.StudyID = "20240102", "101500", "1"
    ds.StudyDescription, ds.AccessionNumber = "synthetic study", "ACC0001"
    ds.SeriesInstanceUID = series_uid or generate_uid()
    ds.SeriesNumber, ds.SeriesDescription, ds.Modality = series_number, series_description, modality
    ds.FrameOfReferenceUID = "1.2.826.0.1.3680043.8.498.1"
    if instance_number is not None:
        ds.InstanceNumber = instance_number
    if position is not None:
        ds.ImagePositionPatient = [_ds(v) for v in position]
    if orientation is not None:
        ds.ImageOrientationPatient = [_ds(v) for v in orientation]
    if pixel_spacing is not None:
        ds.PixelSpacing = [_ds(v) for v in pixel_spacing]
    if slice_thickness is not None:
        ds.SliceThickness = _ds(slice_thickness)
    if rescale is not None or modality == "CT":
        slope, intercept = rescale or (1.0, -1024.0)
        ds.RescaleSlope, ds.RescaleIntercept = _ds(slope), _ds(intercept)
    _set_pixels(ds, pixels if pixels is not None else default_pixels(0, rows, cols))
    for keyword, value in (extra or {}).items():
        setattr(ds, keyword, value)
    return ds


def _ds(value: float) -> str:
    """A decimal string that fits DICOM's 16 characters."""
    text = f"{float(value):.10g}"
    return text if len(text) <= 16 else f"{float(value):.6g}"


def _file_meta(sop_class: str, sop_uid: str) -> FileMetaDataset:
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = sop_uid
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    return meta


def _set_pixels(ds: Dataset, pixels: np.ndarray) -> None:
    frames = pixels if pixels.ndim == 3 else pixels[np.newaxis]
    ds.Rows, ds.Columns = int(frames.shape[1]), int(frames.shape[2])
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit = 16, 16, 15
    ds.PixelRepresentation = 1 if np.issubdtype(pixels.dtype, np.signedinteger) else 0
    dtype = "<i2" if ds.PixelRepresentation else "<u2"
    ds.PixelData = np.ascontiguousarray(frames, dtype=dtype).tobytes()


def save(ds: Dataset, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    ds.save_as(path, enforce_file_format=True)
    return path


def write_series(
    folder: Path,
    *,
    n_slices: int = 10,
    rows: int = 16,
    cols: int = 16,
    spacing_mm: float = 2.0,
    pixel_spacing: Sequence[float] = (0.5, 0.5),
    orientation: Sequence[float] = AXIAL,
    origin: Sequence[float] = (-4.0, -4.0, 0.0),
    tilt_deg: float = 0.0,
    offsets_mm: Sequence[float] | None = None,
    missing: Sequence[int] = (),
    shuffle: bool = False,
    seed: int = 0,
    modality: str = "CT",
    series_uid: str | None = None,
    study_uid: str | None = None,
    pixel_fn: PixelFunction = default_pixels,
    name_prefix: str = "IMG",
    extra: Callable[[int], dict] | None = None,
    **image_kwargs,
) -> list[Path]:
    """Write a stack of single-frame images, one file each; return the paths in spatial order.

    Slice ``k`` lies at ``origin + offsets_mm[k] * normal`` (default offsets ``k * spacing_mm``);
    with ``tilt_deg`` the image plane is tilted about x while the slices still step along z,
    like a tilted CT gantry. ``missing`` leaves out slice indices. ``shuffle`` scrambles the
    instance numbers and file names so that only the positions give the right order.
    """
    series_uid = series_uid or generate_uid()
    study_uid = study_uid or generate_uid()
    if tilt_deg:
        orientation = tilted_orientation(tilt_deg)
        step = np.array([0.0, 0.0, 1.0])
    else:
        step = slice_normal(orientation)
    offsets = list(offsets_mm) if offsets_mm is not None else [k * spacing_mm
                                                               for k in range(n_slices)]
    kept = [k for k in range(len(offsets)) if k not in set(missing)]
    numbers = list(range(1, len(kept) + 1))
    names = [f"{name_prefix}{n:04d}.dcm" for n in numbers]
    if shuffle:
        rng = random.Random(seed)
        rng.shuffle(numbers)
        rng.shuffle(names)
    paths = []
    for order, k in enumerate(kept):
        position = np.asarray(origin, float) + offsets[k] * step
        ds = make_image(
            rows=rows, cols=cols, pixels=pixel_fn(k, rows, cols), modality=modality,
            position=position, orientation=orientation, pixel_spacing=pixel_spacing,
            instance_number=numbers[order], series_uid=series_uid, study_uid=study_uid,
            extra=extra(k) if extra else None, **image_kwargs)
        paths.append(save(ds, folder / names[order]))
    return paths


def write_multi_echo_series(folder: Path, *, n_slices: int = 6, echo_times_ms=(10.0, 30.0),
                            rows: int = 16, cols: int = 16, spacing_mm: float = 3.0
                            ) -> list[Path]:
    """An MR series with every slice acquired at each echo time (same UID, same positions)."""
    series_uid, study_uid = generate_uid(), generate_uid()
    paths: list[Path] = []
    for echo, te in enumerate(echo_times_ms, start=1):
        paths += write_series(
            folder, n_slices=n_slices, rows=rows, cols=cols, spacing_mm=spacing_mm,
            modality="MR", series_uid=series_uid, study_uid=study_uid,
            name_prefix=f"E{echo}_", extra=lambda k, e=echo, t=te: {
                "EchoNumbers": e, "EchoTime": _ds(t),
                "InstanceNumber": (k * len(echo_times_ms)) + e})
    return paths


def write_enhanced_mr(path: Path, *, n_slices: int = 8, rows: int = 16, cols: int = 16,
                      spacing_mm: float = 2.5, pixel_spacing=(0.8, 0.8),
                      orientation: Sequence[float] = CORONAL, origin=(-6.0, 0.0, 6.0),
                      echo_times_ms: Sequence[float] = (12.0,), frame_order_seed: int | None = 3,
                      series_uid: str | None = None) -> Path:
    """One enhanced MR file: frames for each slice (and echo), stored in scrambled order.

    Geometry lives only in the functional groups: positions per frame, orientation and pixel
    spacing shared. Frame ``f`` holds ``default_pixels(k)`` of its slice ``k`` plus
    ``1000 * echo index``.
    """
    frames = [(k, e) for e in range(len(echo_times_ms)) for k in range(n_slices)]
    if frame_order_seed is not None:
        random.Random(frame_order_seed).shuffle(frames)
    normal = slice_normal(orientation)
    pixels = np.stack([default_pixels(k, rows, cols) + 1000 * e for k, e in frames])
    ds = make_image(rows=rows, cols=cols, pixels=pixels, modality="MR", position=None,
                    orientation=None, pixel_spacing=None, slice_thickness=None,
                    series_uid=series_uid)
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = ENHANCED_MR_IMAGE
    ds.NumberOfFrames = len(frames)
    ds.SharedFunctionalGroupsSequence = DicomSequence([_shared_groups(orientation,
                                                                      pixel_spacing, spacing_mm)])
    per_frame = []
    for k, e in frames:
        position = np.asarray(origin, float) + k * spacing_mm * normal
        per_frame.append(_frame_groups(position, k, e, echo_times_ms[e]))
    ds.PerFrameFunctionalGroupsSequence = DicomSequence(per_frame)
    return save(ds, path)


def _shared_groups(orientation, pixel_spacing, thickness) -> Dataset:
    measures = Dataset()
    measures.PixelSpacing = [_ds(v) for v in pixel_spacing]
    measures.SliceThickness = _ds(thickness)
    plane = Dataset()
    plane.ImageOrientationPatient = [_ds(v) for v in orientation]
    shared = Dataset()
    shared.PixelMeasuresSequence = DicomSequence([measures])
    shared.PlaneOrientationSequence = DicomSequence([plane])
    return shared


def _frame_groups(position, k: int, echo: int, echo_time_ms: float) -> Dataset:
    plane = Dataset()
    plane.ImagePositionPatient = [_ds(v) for v in position]
    content = Dataset()
    content.StackID = "1"
    content.InStackPositionNumber = k + 1
    content.DimensionIndexValues = [echo + 1, k + 1]
    mr_echo = Dataset()
    mr_echo.EffectiveEchoTime = float(echo_time_ms)
    frame = Dataset()
    frame.PlanePositionSequence = DicomSequence([plane])
    frame.FrameContentSequence = DicomSequence([content])
    frame.MREchoSequence = DicomSequence([mr_echo])
    return frame

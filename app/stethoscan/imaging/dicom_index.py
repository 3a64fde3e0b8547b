"""Index DICOM files by their headers only: the first step of opening a scan.

:func:`index_paths` expands what the user opened (:mod:`dicom_sources`), reads each file's
header up to the pixel data (never the pixels: the pixel data element's own header is checked
for truncation instead), groups the images into patients, studies and series
(:mod:`series_grouping`) and orders the slices in space (:mod:`series_geometry`). Every file that
does not become an image is listed with a reason a clinician can act on. Headers are read by a
few threads, which overlaps disk and network waits; progress and cancellation are checked
between small batches.
"""

from __future__ import annotations

import logging
import os
import struct
import threading
import warnings
import zlib
from collections.abc import Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stethoscan.core.log_setup import register_identifiers
from stethoscan.core.task import SilentTask, Task
from stethoscan.imaging.dicom_file_problems import (
    damaged_reason,
    describe_sop_class,
    header_problem,
    header_text,
    looks_like_bare_dataset,
    not_dicom_reason,
    pixel_data_problem,
    positive_int,
)
from stethoscan.imaging.dicom_sources import expand_paths
from stethoscan.imaging.model import ScanIndex, SkippedFile
from stethoscan.imaging.series_geometry import floats, frame_attributes, header_value, number
from stethoscan.imaging.series_grouping import ImageHeader, build_patients

if TYPE_CHECKING:
    from pydicom.dataset import Dataset

log = logging.getLogger(__name__)

BATCH_SIZE = 32
MAX_THREADS = 4
_THREAD_PREFIX = "dicom-index"
_PIXEL_TAGS = frozenset({0x7FE00010, 0x7FE00008, 0x7FE00009})
_DICOMDIR_SOP_CLASS = "1.2.840.10008.1.3.10"
_REQUIRED_FOR_IMAGES = ("Rows", "Columns", "BitsAllocated")
_MAX_FRAMES = 100_000


def index_paths(paths: Sequence[str | os.PathLike[str]] | str | os.PathLike[str],
                task: Task | None = None) -> ScanIndex:
    """Index files, folders, DICOMDIRs and zip archives (headers only) into a :class:`ScanIndex`.

    Raises
    ------
    DicomError
        None of the paths exists or can be read.
    Cancelled
        The task was cancelled.
    """
    task = task or SilentTask()
    if isinstance(paths, str | os.PathLike):
        paths = [paths]

    def listing_progress(fraction: float, message: str) -> None:
        task.check_cancelled()
        task.progress(0.05 * fraction, message)

    with _quiet_pydicom():  # also while a DICOMDIR is read
        listing = expand_paths(paths, listing_progress)
        headers, skipped = read_headers(listing.files, task)
    task.progress(0.95, "Grouping series")
    index = ScanIndex(patients=build_patients(headers), skipped=[*listing.skipped, *skipped],
                      notes=list(listing.notes))
    _register_patient_identifiers(index)
    count = len(index.all_series())
    log.info("Indexed %d files: %d series, %d files skipped",
             len(listing.files), count, len(index.skipped))
    task.progress(1.0, f"Found {count} series")
    return index


def read_headers(files: Sequence[Path], task: Task | None = None,
                 start: float = 0.05, stop: float = 0.95
                 ) -> tuple[list[ImageHeader], list[SkippedFile]]:
    """Read the headers of ``files`` in parallel; duplicates of an instance are skipped."""
    task = task or SilentTask()
    results: list[list[ImageHeader] | SkippedFile] = []
    workers = min(MAX_THREADS, max(1, len(files) // BATCH_SIZE))
    with _quiet_pydicom(), ThreadPoolExecutor(workers, _THREAD_PREFIX) as pool:
        for begin in range(0, len(files), BATCH_SIZE):
            task.check_cancelled()
            batch = files[begin:begin + BATCH_SIZE]
            results.extend(pool.map(read_image_headers, batch))
            done = begin + len(batch)
            task.progress(start + (stop - start) * done / len(files),
                          f"Read {done} of {len(files)} file headers")
    return _drop_duplicates(results)


class _ReaderRecordFilter(logging.Filter):
    """Drops pydicom's log records from the header readers: they may quote header values
    (names, IDs), and the odd values they complain about are reported per file anyway."""

    def __init__(self, thread_id: int) -> None:
        super().__init__()
        self._thread_id = thread_id

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.thread == self._thread_id
                    or str(record.threadName).startswith(_THREAD_PREFIX))


@contextmanager
def _quiet_pydicom() -> Iterator[None]:
    pydicom_log = logging.getLogger("pydicom")
    record_filter = _ReaderRecordFilter(threading.get_ident())
    pydicom_log.addFilter(record_filter)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", UserWarning)  # pydicom's notes on odd values
            yield
    finally:
        pydicom_log.removeFilter(record_filter)


def _drop_duplicates(results: Iterable[list[ImageHeader] | SkippedFile]
                     ) -> tuple[list[ImageHeader], list[SkippedFile]]:
    headers: list[ImageHeader] = []
    skipped: list[SkippedFile] = []
    first_file: dict[str, str] = {}
    for result in results:
        if isinstance(result, SkippedFile):
            skipped.append(result)
            continue
        uid, path = result[0].sop_instance_uid, result[0].path
        if uid in first_file:
            skipped.append(SkippedFile(path, (
                f"Duplicate of {Path(first_file[uid]).name}: the same image (same SOP Instance "
                "UID), so it was not loaded twice.")))
            continue
        first_file[uid] = path
        headers.extend(result)
    return headers, skipped


# --- one file ------------------------------------------------------------------------------
def read_image_headers(path: Path | str) -> list[ImageHeader] | SkippedFile:
    """The image headers of one file (one per frame), or why it is not an image."""
    text = str(path)
    try:
        size = os.path.getsize(text)
        if size == 0:
            return SkippedFile(text, "Empty file (0 bytes): not a DICOM file.")
        with open(text, "rb") as stream:
            parsed = _parse(stream, size)
            if isinstance(parsed, str):
                return SkippedFile(text, parsed)
            dataset, pixel = parsed
            outcome = _image_headers(text, dataset, pixel, stream, size)
    except OSError as exc:
        return SkippedFile(text, f"The file cannot be read: {exc.strerror or exc}.")
    except _PARSE_ERRORS as exc:
        return SkippedFile(text, damaged_reason(exc))
    except Exception as exc:  # one odd file must never stop the whole index
        tb = exc.__traceback__
        while tb is not None and tb.tb_next is not None:
            tb = tb.tb_next
        where = f"{tb.tb_frame.f_code.co_filename}:{tb.tb_lineno}" if tb else "?"
        log.warning("Unexpected %s while reading a DICOM header at %s", type(exc).__name__, where)
        return SkippedFile(text, f"The file could not be read as DICOM ({type(exc).__name__}).")
    return SkippedFile(text, outcome) if isinstance(outcome, str) else outcome


_PARSE_ERRORS = (EOFError, ValueError, KeyError, IndexError, TypeError, AttributeError,
                 OverflowError, LookupError, struct.error, zlib.error, NotImplementedError,
                 RecursionError, MemoryError)


def _parse(stream: Any, size: int) -> tuple[Dataset, dict] | str:
    """Read the header up to the pixel data; the pixel element's tag, VR, length and offset."""
    from pydicom.errors import InvalidDicomError
    from pydicom.filereader import read_partial

    head = stream.read(132)
    stream.seek(0)
    has_preamble = len(head) == 132 and head[128:132] == b"DICM"
    if not has_preamble and not looks_like_bare_dataset(head):
        return not_dicom_reason(head)
    pixel: dict[str, Any] = {}

    def at_pixel_data(tag: int, vr: str | None, length: int) -> bool:
        if tag in _PIXEL_TAGS:
            pixel.update(tag=int(tag), vr=vr, length=length, offset=stream.tell())
            return True
        return False

    try:
        dataset = read_partial(stream, stop_when=at_pixel_data, force=not has_preamble)
    except InvalidDicomError:
        return not_dicom_reason(head)
    return dataset, pixel


# --- from a parsed header to image headers -------------------------------------------------
def _image_headers(path: str, ds: Dataset, pixel: dict, stream: Any, size: int
                   ) -> list[ImageHeader] | str:
    sop_class = str(header_value(ds, "SOPClassUID") or ds.file_meta.get("MediaStorageSOPClassUID") or "")
    if sop_class == _DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
        return "Not an image: a DICOMDIR (the index of a DICOM disc or folder)."
    if not pixel:
        return header_problem(ds, size) or describe_sop_class(sop_class)
    missing = [k for k in _REQUIRED_FOR_IMAGES if not positive_int(header_value(ds, k))]
    if missing:
        return ("Missing required DICOM attributes for an image: "
                f"{', '.join(missing)}. The pixels cannot be laid out.")
    frames = positive_int(header_value(ds, "NumberOfFrames") or 1)
    if frames is None:
        return (f"The header's Number of Frames ({ds.get('NumberOfFrames')!s:.20}) is not a "
                "positive number, so the frames cannot be separated.")
    if frames > _MAX_FRAMES:
        return (f"The header's Number of Frames ({frames}) is implausibly large: the file is "
                "damaged.")
    transfer_syntax = _transfer_syntax(ds)
    problem = pixel_data_problem(ds, pixel, stream, size, frames, transfer_syntax)
    if problem:
        return problem
    return _build_headers(path, ds, frames, sop_class, transfer_syntax)


def _transfer_syntax(ds: Dataset) -> str:
    uid = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if uid:
        return str(uid)
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if implicit:
        return "1.2.840.10008.1.2"
    return "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"


def _build_headers(path: str, ds: Dataset, frames: int, sop_class: str,
                   transfer_syntax: str) -> list[ImageHeader]:
    from pydicom.uid import generate_uid

    notes: list[str] = []
    series_uid = header_text(ds, "SeriesInstanceUID")
    if not series_uid:
        series_uid = str(generate_uid(entropy_srcs=["series", path]))
        notes.append("The file has no Series Instance UID: it is shown as a series of its own.")
    patient_id, patient_name = header_text(ds, "PatientID"), header_text(ds, "PatientName")
    study_uid = header_text(ds, "StudyInstanceUID") or str(generate_uid(
        entropy_srcs=["study", patient_id, patient_name, header_text(ds, "StudyDate"), series_uid]))
    sop_uid = header_text(ds, "SOPInstanceUID") or str(generate_uid(entropy_srcs=["instance", path]))
    common = dict(
        path=path, sop_instance_uid=sop_uid, study_uid=study_uid, series_uid=series_uid,
        rows=int(header_value(ds, "Rows")), columns=int(header_value(ds, "Columns")), number_of_frames=frames,
        instance_number=_int(header_value(ds, "InstanceNumber")), transfer_syntax_uid=transfer_syntax,
        sop_class_uid=sop_class, patient_id=patient_id, patient_name=patient_name,
        birth_date=header_text(ds, "PatientBirthDate"), sex=header_text(ds, "PatientSex"),
        study_date=header_text(ds, "StudyDate"), study_description=header_text(ds, "StudyDescription"),
        accession_number=header_text(ds, "AccessionNumber"),
        series_number=_int(header_value(ds, "SeriesNumber")),
        series_description=header_text(ds, "SeriesDescription"), modality=header_text(ds, "Modality"),
        frame_of_reference_uid=header_text(ds, "FrameOfReferenceUID"),
        samples_per_pixel=positive_int(header_value(ds, "SamplesPerPixel") or 1) or 1,
        bits_allocated=int(header_value(ds, "BitsAllocated")), photometric=header_text(ds, "PhotometricInterpretation"),
        echo_number=_int(header_value(ds, "EchoNumbers")), acquisition_number=_int(header_value(ds, "AcquisitionNumber")),
        trigger_time_ms=number(header_value(ds, "TriggerTime")),
    )
    geometries = frame_attributes(ds, frames)
    detector_spacing = _detector_spacing(ds, geometries, notes)
    headers = []
    for k, geometry in enumerate(geometries):
        if geometry.pixel_spacing_mm is None:
            geometry.pixel_spacing_mm = detector_spacing
        headers.append(ImageHeader(**common, frame=k if frames > 1 else None,
                                   geometry=geometry, warnings=tuple(notes)))
    return headers


def _detector_spacing(ds: Dataset, geometries: list, notes: list[str]
                      ) -> tuple[float, float] | None:
    """Imager Pixel Spacing of projection images, when they state no Pixel Spacing."""
    if any(g.pixel_spacing_mm is not None for g in geometries):
        return None
    spacing = floats(header_value(ds, "ImagerPixelSpacing"), 2)
    if spacing is None or min(spacing) <= 0:
        return None
    notes.append("Distances use the detector's pixel spacing (Imager Pixel Spacing): on a "
                 "projection image they are magnified compared with the patient.")
    return spacing  # type: ignore[return-value]


def _int(value: Any) -> int | None:
    if isinstance(value, list | tuple) or (hasattr(value, "__len__") and
                                           not isinstance(value, str | bytes)):
        value = value[0] if len(value) else None
    result = number(value)
    return int(result) if result is not None and float(result).is_integer() else None


def _register_patient_identifiers(index: ScanIndex) -> None:
    values: list[str] = []
    for patient in index.patients:
        values.extend((patient.patient_id, patient.name, patient.birth_date))
        values.extend(study.accession_number for study in patient.studies)
    register_identifiers(v for v in values if v)

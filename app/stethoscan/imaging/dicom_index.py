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
_DEFLATED = "1.2.840.10008.1.2.1.99"
_ITEM = 0xE000FFFE  # (FFFE,E000) read as little-endian uint32
_SEQUENCE_END = 0xE0DDFFFE
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
        return SkippedFile(text, _damaged_reason(exc))
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


_TRUNCATED_HEADER = ("Truncated DICOM file: the header ends early, so the file is incomplete. "
                     "Copy it again from the source.")
_IMPOSSIBLE_LENGTH = ("Damaged DICOM file: its header holds an element of impossible length, "
                      "so the rest of the file cannot be read.")
_LARGEST_HEADER_VALUE = 64 * 1024 * 1024  # bytes; a garbage 32-bit length is nearly always more


def _damaged_reason(exc: BaseException) -> str:
    if isinstance(exc, EOFError | struct.error):
        return _TRUNCATED_HEADER
    detail = str(exc).strip().splitlines()[0][:120] if str(exc).strip() else type(exc).__name__
    return f"Damaged DICOM file: its header cannot be read ({detail})."


def _parse(stream: Any, size: int) -> tuple[Dataset, dict] | str:
    """Read the header up to the pixel data; the pixel element's tag, VR, length and offset."""
    from pydicom.errors import InvalidDicomError
    from pydicom.filereader import read_partial

    head = stream.read(132)
    stream.seek(0)
    has_preamble = len(head) == 132 and head[128:132] == b"DICM"
    if not has_preamble and not _looks_like_bare_dataset(head):
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


def _looks_like_bare_dataset(head: bytes) -> bool:
    """A DICOM data set without preamble (old ACR-NEMA style) starts with a group 0008 tag."""
    if len(head) < 8:
        return False
    group_le, group_be = struct.unpack("<H", head[:2])[0], struct.unpack(">H", head[:2])[0]
    return 0x0008 in (group_le, group_be) or (group_le == 0x0002 and head[4:6].isalpha())


_MAGIC = (
    (b"PK\x03\x04", "a zip archive that could not be opened"),
    (b"\x1f\x8b", "a gzip-compressed file; unpack it first"),
    (b"%PDF", "a PDF document"),
    (b"\x89PNG", "a PNG picture"),
    (b"\xff\xd8\xff", "a JPEG picture"),
    (b"GIF8", "a GIF picture"),
    (b"II*\x00", "a TIFF picture"),
    (b"MM\x00*", "a TIFF picture"),
    (b"\x5c\x01\x00\x00", "a NIfTI volume"),
    (b"RIFF", "a RIFF (e.g. WAV) file"),
)


def not_dicom_reason(head: bytes) -> str:
    """Why a file is not DICOM, naming what it seems to be."""
    for magic, what in _MAGIC:
        if head.startswith(magic):
            return f"Not a DICOM file: it is {what}."
    if head[:4] in (b"\x00\x00\x01\xac", b"\xac\x01\x00\x00") or head[36:40] == b"acsp":
        return "Not a DICOM file: it is a colour profile (ICC)."
    if _is_text(head):
        if head.lstrip()[:1] in (b"{", b"["):
            return "Not a DICOM file: it is a JSON text file."
        return "Not a DICOM file: it is a text file."
    return "Not a DICOM file: it has no DICOM header (no 'DICM' marker and no DICOM data set)."


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


# --- from a parsed header to image headers -------------------------------------------------
def _image_headers(path: str, ds: Dataset, pixel: dict, stream: Any, size: int
                   ) -> list[ImageHeader] | str:
    sop_class = str(header_value(ds, "SOPClassUID") or ds.file_meta.get("MediaStorageSOPClassUID") or "")
    if sop_class == _DICOMDIR_SOP_CLASS or "DirectoryRecordSequence" in ds:
        return "Not an image: a DICOMDIR (the index of a DICOM disc or folder)."
    if not pixel:
        return header_problem(ds, size) or describe_sop_class(sop_class)
    missing = [k for k in _REQUIRED_FOR_IMAGES if not _positive_int(header_value(ds, k))]
    if missing:
        return ("Missing required DICOM attributes for an image: "
                f"{', '.join(missing)}. The pixels cannot be laid out.")
    frames = _positive_int(header_value(ds, "NumberOfFrames") or 1)
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


def header_problem(ds: Dataset, size: int) -> str:
    """Why a header without pixel data is incomplete or damaged, or ''.

    pydicom stops silently at the end of a file, even inside a value or an element header, so
    the last element is checked against the file size.
    """
    meta = getattr(ds, "file_meta", None)
    group_length = meta.get("FileMetaInformationGroupLength") if meta is not None else None
    if isinstance(group_length, int) and getattr(ds, "preamble", None) is not None:
        if 132 + 12 + group_length > size:
            return _TRUNCATED_HEADER
    deflated = meta is not None and meta.get("TransferSyntaxUID") == _DEFLATED
    for container in (meta, None if deflated else ds):
        if container is None or not len(container):
            continue
        last = container.get_item(max(container.keys()))
        raw, length = getattr(last, "value", None), getattr(last, "length", None)
        if not isinstance(raw, bytes) or not isinstance(length, int) or length == 0xFFFFFFFF:
            continue
        if len(raw) < length:
            return _IMPOSSIBLE_LENGTH if length > _LARGEST_HEADER_VALUE else _TRUNCATED_HEADER
        left_over = size - (getattr(last, "value_tell", size) + length)
        if container is ds and 0 < left_over < 8:  # the file ends inside an element header
            return _TRUNCATED_HEADER
    return ""


def describe_sop_class(sop_class: str) -> str:
    """Why an object without pixel data is not an image, naming what it is instead."""
    from pydicom.uid import UID

    name = UID(sop_class).name if sop_class else ""
    if not name or name == sop_class:
        return "Not an image: this DICOM file holds no pixel data."
    name = name.removesuffix(" Storage")
    kinds = (("SR", "a structured report"), ("Presentation State", "a presentation state"),
             ("Waveform", "a waveform recording"), ("Key Object", "a key image note"),
             ("RT Plan", "a radiotherapy plan"), ("RT Ion Plan", "a radiotherapy plan"),
             ("RT Structure", "a radiotherapy structure set"),
             ("Encapsulated", "an encapsulated document"), ("Raw Data", "raw data"))
    for marker, kind in kinds:
        if marker in name:
            return f"Not an image: {kind} ({name}), with no pixel data."
    if "Image" in name:
        return (f"This {name} file holds no pixel data (it may be cut off, or the image was "
                "removed), so there is no image to show.")
    return f"Not an image: a {name} object, with no pixel data."


def _positive_int(value: Any) -> int | None:
    result = number(value)
    if result is None or not float(result).is_integer() or result < 1:
        return None
    return int(result)


def _transfer_syntax(ds: Dataset) -> str:
    uid = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    if uid:
        return str(uid)
    implicit, little = getattr(ds, "original_encoding", (True, True))
    if implicit:
        return "1.2.840.10008.1.2"
    return "1.2.840.10008.1.2.1" if little else "1.2.840.10008.1.2.2"


def pixel_data_problem(ds: Dataset, pixel: dict, stream: Any, size: int, frames: int,
                       transfer_syntax: str) -> str:
    """Why the pixel data cannot be complete (truncated, empty, too short), or ''."""
    length = pixel["length"]
    if transfer_syntax == _DEFLATED:
        return ""  # the data set was inflated in memory; zlib already checked the stream
    if length == 0:
        return "The pixel data is empty: the file holds no image."
    if length == 0xFFFFFFFF:
        return _encapsulated_problem(stream, pixel["offset"], size, frames)
    expected = _native_bytes(ds, frames, pixel["tag"])
    available = size - pixel["offset"]
    if length > available:
        if expected and available >= expected:
            return (f"Damaged DICOM file: the header gives the pixel data {length} bytes, but "
                    f"the image size needs {expected} and the file holds {available}.")
        return (f"Truncated DICOM file: the pixel data stops after {available} of {length} "
                "bytes, so the file is incomplete. Copy it again from the source.")
    if expected and length < expected:
        return (f"The pixel data holds {length} bytes but the image size in the header needs "
                f"{expected}: the file is damaged.")
    return ""


def _native_bytes(ds: Dataset, frames: int, tag: int) -> int:
    rows, cols = _positive_int(header_value(ds, "Rows")) or 0, _positive_int(header_value(ds, "Columns")) or 0
    samples = _positive_int(header_value(ds, "SamplesPerPixel") or 1) or 1
    bits = {0x7FE00008: 32, 0x7FE00009: 64}.get(tag) or _positive_int(header_value(ds, "BitsAllocated"))
    bits = bits or 0
    if _text(ds, "PhotometricInterpretation").startswith("YBR_FULL_422"):
        samples = 2  # two chroma values shared by each pair of pixels
    return (rows * cols * samples * frames * bits + 7) // 8


def _encapsulated_problem(stream: Any, offset: int, size: int, frames: int) -> str:
    """Walk the items of encapsulated pixel data: each must fit in the file, and end marked."""
    stream.seek(offset)
    fragments = -1  # the first item is the basic offset table
    while True:
        header = stream.read(8)
        if len(header) < 8:
            return ("Truncated DICOM file: the compressed pixel data ends without its end "
                    "marker, so the file is incomplete. Copy it again from the source.")
        tag, length = struct.unpack("<II", header)
        if tag == _SEQUENCE_END:
            break
        if tag != _ITEM:
            return "Damaged DICOM file: the compressed pixel data is not a valid item sequence."
        if stream.tell() + length > size:
            return ("Truncated DICOM file: the compressed pixel data stops in the middle of a "
                    "frame, so the file is incomplete. Copy it again from the source.")
        stream.seek(length, os.SEEK_CUR)
        fragments += 1
    if fragments < 1:
        return "The compressed pixel data holds no frames: the file holds no image."
    if fragments < frames:
        return (f"The compressed pixel data holds {fragments} fragments but the header "
                f"declares {frames} frames: the file is incomplete.")
    return ""


def _build_headers(path: str, ds: Dataset, frames: int, sop_class: str,
                   transfer_syntax: str) -> list[ImageHeader]:
    from pydicom.uid import generate_uid

    notes: list[str] = []
    series_uid = _text(ds, "SeriesInstanceUID")
    if not series_uid:
        series_uid = str(generate_uid(entropy_srcs=["series", path]))
        notes.append("The file has no Series Instance UID: it is shown as a series of its own.")
    patient_id, patient_name = _text(ds, "PatientID"), _text(ds, "PatientName")
    study_uid = _text(ds, "StudyInstanceUID") or str(generate_uid(
        entropy_srcs=["study", patient_id, patient_name, _text(ds, "StudyDate"), series_uid]))
    sop_uid = _text(ds, "SOPInstanceUID") or str(generate_uid(entropy_srcs=["instance", path]))
    common = dict(
        path=path, sop_instance_uid=sop_uid, study_uid=study_uid, series_uid=series_uid,
        rows=int(header_value(ds, "Rows")), columns=int(header_value(ds, "Columns")), number_of_frames=frames,
        instance_number=_int(header_value(ds, "InstanceNumber")), transfer_syntax_uid=transfer_syntax,
        sop_class_uid=sop_class, patient_id=patient_id, patient_name=patient_name,
        birth_date=_text(ds, "PatientBirthDate"), sex=_text(ds, "PatientSex"),
        study_date=_text(ds, "StudyDate"), study_description=_text(ds, "StudyDescription"),
        accession_number=_text(ds, "AccessionNumber"),
        series_number=_int(header_value(ds, "SeriesNumber")),
        series_description=_text(ds, "SeriesDescription"), modality=_text(ds, "Modality"),
        frame_of_reference_uid=_text(ds, "FrameOfReferenceUID"),
        samples_per_pixel=_positive_int(header_value(ds, "SamplesPerPixel") or 1) or 1,
        bits_allocated=int(header_value(ds, "BitsAllocated")), photometric=_text(ds, "PhotometricInterpretation"),
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


def _text(ds: Dataset, keyword: str) -> str:
    value = header_value(ds, keyword)
    if value is None:
        return ""
    if isinstance(value, bytes):
        value = value.decode("latin-1", errors="replace")
    elif isinstance(value, list):
        value = "\\".join(str(v) for v in value)
    return str(value).strip().strip("\x00")


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

#!/usr/bin/env python3
"""Build the bundled demo patient in ``resources/demo`` from ``../shared/data`` (reproducible).

- scan/: the public-domain (PDDL) 7 T T1-weighted brain MRI of the studyforrest project, reduced:
  every 3rd slice, 2 x 2 in-plane averaging, written as RLE-lossless DICOM with new UIDs, the
  patient name ``DEMO^Patient`` and the geometry kept (positions, orientation, spacing).
- audio/: an excerpt (the first breathing cycles) of a CC0 ICBHI 2017 stethoscope recording with
  its cycle annotations trimmed to match.

Run: ``.venv/bin/python packaging/make_demo_data.py [--shared ../shared/data]``. The output is
byte-for-byte the same on every run (UIDs derive from fixed seeds, no timestamps).
"""

from __future__ import annotations

import argparse
import shutil
from pathlib import Path

import numpy as np
import pydicom
import soundfile as sf
from pydicom.uid import RLELossless, generate_uid

REPO = Path(__file__).resolve().parent.parent
OUT = REPO / "resources" / "demo"
SLICE_STEP = 3
BLOCK = 2
AUDIO_NAME = "104_1b1_Ll_sc_Litt3200"
AUDIO_END_S = 12.8  # the first six annotated cycles end at 12.721 s
UID_SEED = "stethoscan-demo-v1"
_KEEP = (
    "ImageType", "SOPClassUID", "StudyDate", "SeriesDate", "AcquisitionDate", "ContentDate",
    "StudyTime", "SeriesTime", "Modality", "Manufacturer", "ManufacturerModelName",
    "SeriesNumber", "AcquisitionNumber", "ImageOrientationPatient", "SamplesPerPixel",
    "PhotometricInterpretation", "BitsAllocated", "BitsStored", "HighBit",
    "PixelRepresentation", "RescaleIntercept", "RescaleSlope", "RescaleType", "PatientPosition",
    "MagneticFieldStrength", "ProtocolName",
)


def slice_order(datasets: list[pydicom.Dataset]) -> list[int]:
    """Indices of ``datasets`` ordered along the slice normal (row x column cosines)."""
    iop = np.asarray(datasets[0].ImageOrientationPatient, dtype=float)
    normal = np.cross(iop[:3], iop[3:])
    along = [float(np.dot(normal, np.asarray(d.ImagePositionPatient, dtype=float))) for d in datasets]
    return list(np.argsort(along))


def block_mean(pixels: np.ndarray, block: int) -> np.ndarray:
    """Average ``block`` x ``block`` pixel blocks (edges that do not fill a block are dropped)."""
    rows, cols = (pixels.shape[0] // block) * block, (pixels.shape[1] // block) * block
    view = pixels[:rows, :cols].astype(np.float64).reshape(rows // block, block, cols // block, block)
    return np.rint(view.mean(axis=(1, 3))).astype(pixels.dtype)


def reduced_dataset(src: pydicom.Dataset, pixels: np.ndarray, number: int, uids: dict[str, str],
                    window: tuple[float, float]) -> pydicom.Dataset:
    """A new single-frame MR dataset: reduced pixels, new identity, the source geometry."""
    iop = np.asarray(src.ImageOrientationPatient, dtype=float)
    row_mm, col_mm = (float(x) for x in src.PixelSpacing)
    # The centre of new pixel (0, 0) lies half an old pixel into the block, along rows and columns.
    shift = (BLOCK - 1) / 2.0
    origin = np.asarray(src.ImagePositionPatient, dtype=float) + shift * (iop[:3] * col_mm + iop[3:] * row_mm)
    ds = pydicom.Dataset()
    for keyword in _KEEP:
        if keyword in src:
            setattr(ds, keyword, src.data_element(keyword).value)
    sop_uid = generate_uid(entropy_srcs=[UID_SEED, "sop", str(number)])
    ds.SOPInstanceUID = sop_uid
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uids["study"], uids["series"]
    ds.FrameOfReferenceUID = uids["frame"]
    ds.PatientName, ds.PatientID = "DEMO^Patient", "DEMO"
    ds.PatientBirthDate, ds.PatientSex = "", "O"
    ds.AccessionNumber, ds.ReferringPhysicianName, ds.StudyID = "", "", "1"
    ds.StudyDescription = "Demo brain MRI (studyforrest, PDDL)"
    ds.SeriesDescription = "T1w 3D (reduced demo)"
    ds.InstanceNumber = number
    ds.ImagePositionPatient = [f"{v:.6f}" for v in origin]
    ds.PixelSpacing = [f"{row_mm * BLOCK:.6f}", f"{col_mm * BLOCK:.6f}"]
    spacing = float(src.SpacingBetweenSlices) * SLICE_STEP
    ds.SliceThickness = f"{spacing:.6f}"
    ds.SpacingBetweenSlices = f"{spacing:.6f}"
    ds.WindowCenter, ds.WindowWidth = f"{window[0]:.0f}", f"{window[1]:.0f}"
    ds.Rows, ds.Columns = pixels.shape
    ds.PixelData = pixels.tobytes()
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = sop_uid
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.compress(RLELossless, encoding_plugin="pydicom")
    return ds


def make_scan(source: Path, out: Path) -> int:
    files = sorted(source.glob("*.dcm"))
    datasets = [pydicom.dcmread(f) for f in files]
    ordered = [datasets[i] for i in slice_order(datasets)]
    kept = ordered[::SLICE_STEP]
    volume = np.stack([block_mean(d.pixel_array, BLOCK) for d in kept])
    lo, hi = np.percentile(volume[volume > 0], [1.0, 99.5])
    window = ((lo + hi) / 2.0, hi - lo)
    uids = {name: generate_uid(entropy_srcs=[UID_SEED, name]) for name in ("study", "series", "frame")}
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    for number, (src, pixels) in enumerate(zip(kept, volume, strict=True), start=1):
        ds = reduced_dataset(src, pixels, number, uids, window)
        ds.save_as(out / f"IM{number:04d}.dcm", enforce_file_format=True)
    return len(kept)


def make_audio(source: Path, out: Path) -> float:
    samples, rate = sf.read(source / f"{AUDIO_NAME}.wav", dtype="int16", always_2d=False)
    info = sf.info(str(source / f"{AUDIO_NAME}.wav"))
    excerpt = samples[: int(round(AUDIO_END_S * rate))]
    out.mkdir(parents=True, exist_ok=True)
    name = f"{AUDIO_NAME}_excerpt"
    sf.write(out / f"{name}.wav", excerpt, rate, subtype=info.subtype)
    lines = []
    for line in (source / f"{AUDIO_NAME}.txt").read_text().splitlines():
        fields = line.split()
        if len(fields) == 4 and float(fields[1]) <= AUDIO_END_S:
            lines.append("\t".join(fields))
    (out / f"{name}.txt").write_text("\n".join(lines) + "\n")
    return len(excerpt) / rate


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shared", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()
    n = make_scan(args.shared / "brain-t1-dicom", args.out / "scan")
    seconds = make_audio(args.shared / "icbhi-sample", args.out / "audio")
    size = sum(f.stat().st_size for f in args.out.rglob("*") if f.is_file())
    print(f"demo scan: {n} slices; demo recording: {seconds:.2f} s; total {size / 1e6:.1f} MB in {args.out}")


if __name__ == "__main__":
    main()

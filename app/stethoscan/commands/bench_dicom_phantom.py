"""A synthetic CT series for ``stethoscan bench dicom`` (12-bit body phantom with noise)."""

from __future__ import annotations

from pathlib import Path


def write_synthetic_ct_series(folder: Path, slices: int = 300, size: int = 512,
                              seed: int = 0) -> list[Path]:
    """An axial CT series: 12-bit stored values, intercept -1024, a noisy body phantom with
    lungs and spine; 1 mm slices, 500 mm field of view. Returns the paths in spatial order."""
    import numpy as np

    folder.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(seed)
    body = _phantom(size)
    uids = _uids()
    paths = []
    for k in range(slices):
        hu = body + rng.normal(0.0, 12.0, body.shape)
        stored = np.clip(hu + 1024.0, 0, 4095).astype(np.uint16)
        ds = _ct_slice(uids, k, size, stored)
        path = folder / f"CT{k:04d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def _phantom(size: int):
    import numpy as np

    y, x = np.mgrid[:size, :size] / (size - 1) - 0.5
    hu = np.full((size, size), -1000.0)
    hu[(x / 0.42) ** 2 + (y / 0.32) ** 2 < 1] = 40.0  # soft tissue
    for side in (-1, 1):
        hu[((x - side * 0.18) / 0.13) ** 2 + ((y + 0.02) / 0.2) ** 2 < 1] = -820.0  # lungs
    hu[x**2 + (y - 0.2) ** 2 < 0.05**2] = 700.0  # vertebra
    return hu


def _uids() -> dict[str, str]:
    from pydicom.uid import generate_uid

    return {"study": generate_uid(), "series": generate_uid(), "frame": generate_uid()}


def _ct_slice(uids: dict[str, str], k: int, size: int, stored):
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID = CTImageStorage
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.StudyDate = ds.SeriesDate = ds.ContentDate = "20240102"
    ds.StudyTime = ds.SeriesTime = ds.ContentTime = "101500"
    ds.Modality, ds.Manufacturer = "CT", "Stethoscan synthetic"
    ds.PatientName, ds.PatientID, ds.PatientSex = "Synthetic^Phantom", "SYN-0001", "O"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = uids["study"], uids["series"]
    ds.FrameOfReferenceUID = uids["frame"]
    ds.StudyID, ds.SeriesNumber, ds.InstanceNumber = "1", 2, k + 1
    ds.SeriesDescription, ds.BodyPartExamined = "Synthetic chest", "CHEST"
    ds.SliceThickness, ds.KVP, ds.ConvolutionKernel = "1.0", "120", "STANDARD"
    ds.ImagePositionPatient = ["-250", "-250", f"{-float(k):.1f}"]
    ds.ImageOrientationPatient = ["1", "0", "0", "0", "1", "0"]
    ds.SliceLocation = f"{-float(k):.1f}"
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.Rows = ds.Columns = size
    ds.PixelSpacing = [f"{500.0 / size:.6g}"] * 2
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.WindowCenter, ds.WindowWidth = "40", "400"
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = "-1024", "1", "HU"
    ds.PixelData = stored.tobytes()
    return ds

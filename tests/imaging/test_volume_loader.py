"""Progressive, verified and parallel volume loading from an ordered series."""

from __future__ import annotations

import dataclasses
import os
import random
import sys
import types
from pathlib import Path

import numpy as np
import pydicom
import pytest
from dicom_factory import default_pixels, write_enhanced_mr
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.pixels import apply_modality_lut
from pydicom.uid import (
    CTImageStorage,
    ExplicitVRLittleEndian,
    ImplicitVRLittleEndian,
    JPEG2000Lossless,
    RLELossless,
    generate_uid,
)

from stethoscan.core.errors import Cancelled, DicomError
from stethoscan.core.task import SilentTask
from stethoscan.imaging import parallel_decoding, slice_rendering
from stethoscan.imaging.dicom_index import index_paths
from stethoscan.imaging.model import InstanceRef, SeriesInfo
from stethoscan.imaging.parallel_decoding import decoder_pool_pids, wait_for_decoder_pool
from stethoscan.imaging.pixel_decoding import threads_within_each_image
from stethoscan.imaging.volume_loader import (
    PROCESS_POOL_MIN_SLICES,
    load_volume,
    shutdown_decoder_pool,
    start_decoder_pool,
    use_decoder_processes,
)


@pytest.fixture(autouse=True)
def stop_decoder_processes():
    """Long compressed series start shared decoder processes that outlive the load."""
    yield
    shutdown_decoder_pool()


def write_ct_series(folder: Path, count: int = 12, size: int = 32, *, syntax=ExplicitVRLittleEndian,
                    normal_sign: int = 1, slopes=None, seed: int = 0) -> SeriesInfo:
    """A CT series (12-bit unsigned, intercept -1024) with shuffled file names, and its
    SeriesInfo ordered along the slice normal as the indexer produces it."""
    rng = np.random.default_rng(seed)
    folder.mkdir(parents=True, exist_ok=True)
    study, series_uid = generate_uid(), generate_uid()
    names = [f"f{n:03d}.dcm" for n in random.Random(seed).sample(range(1000), count)]
    instances = []
    for k in range(count):
        ds = _ct_dataset(study, series_uid, k, size, rng, normal_sign, (slopes or {}).get(k, 1.0))
        if syntax not in (ExplicitVRLittleEndian, ImplicitVRLittleEndian):
            ds.compress(syntax)
        else:
            ds.file_meta.TransferSyntaxUID = syntax
        path = folder / names[k]
        ds.save_as(path, enforce_file_format=True)
        instances.append(InstanceRef(str(path), ds.SOPInstanceUID, position_mm=tuple(
            float(v) for v in ds.ImagePositionPatient), orientation=(1, 0, 0, 0, 1, 0),
            transfer_syntax_uid=str(syntax)))
    return SeriesInfo(series_uid, study, modality="CT", rows=size, columns=size,
                      transfer_syntax_uid=str(syntax),
                      pixel_spacing_mm=(0.8, 0.7), slice_spacing_mm=2.5,
                      orientation=(1, 0, 0, 0, 1, 0), instances=instances,
                      warnings=["test warning from the indexer"])


def _ct_dataset(study, series_uid, k, size, rng, normal_sign, slope) -> Dataset:
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.MediaStorageSOPClassUID = CTImageStorage
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.SOPClassUID, ds.Modality = CTImageStorage, "CT"
    ds.StudyInstanceUID, ds.SeriesInstanceUID = study, series_uid
    ds.ImagePositionPatient = [-20.0, -10.0, normal_sign * 2.5 * k]
    ds.ImageOrientationPatient = [1, 0, 0, 0, 1, 0]
    ds.PixelSpacing = [0.8, 0.7]
    ds.Rows = ds.Columns = size
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
    ds.RescaleIntercept, ds.RescaleSlope = -1024, slope
    ds.WindowCenter, ds.WindowWidth = 40, 400
    pixels = rng.integers(0, 4096, size=(size, size), dtype=np.uint16)
    pixels[0, 0] = k  # identifies the slice
    ds.PixelData = pixels.tobytes()
    return ds


def _expected(series: SeriesInfo) -> np.ndarray:
    return np.stack([pydicom.dcmread(i.path).pixel_array for i in series.instances])


class RecordingTask(SilentTask):
    """Remembers what the volume looked like when the first slice was handed over."""

    def partial(self, result) -> None:
        index, volume = result
        self.first = (index, volume.loaded.copy(), volume.voxels[index].copy())
        super().partial(result)


def test_uncompressed_series_loads_in_order_with_geometry(tmp_path):
    series = write_ct_series(tmp_path, normal_sign=-1)  # positions descend: k runs inferior
    task = RecordingTask()
    volume = load_volume(series, task, first_index=3)
    np.testing.assert_array_equal(volume.voxels, _expected(series))
    assert [int(volume.voxels[k, 0, 0]) for k in range(12)] == list(range(12))
    assert volume.loaded.all() and task.fraction == 1.0
    assert volume.spacing_mm == (2.5, 0.8, 0.7)
    assert volume.origin_mm == (-20.0, -10.0, 0.0)
    np.testing.assert_allclose(volume.direction, np.diag([1.0, 1.0, -1.0]))
    np.testing.assert_allclose(volume.index_to_patient_mm(4, 1, 2), [-18.6, -9.2, -10.0])
    assert (volume.slope, volume.intercept, volume.units) == (1.0, -1024.0, "HU")
    assert volume.default_window == (40.0, 400.0)
    assert "test warning from the indexer" in volume.warnings
    index, loaded, pixels = task.first
    assert index == 3 and loaded.sum() == 1 and loaded[3]
    np.testing.assert_array_equal(pixels, volume.voxels[3])


@pytest.mark.parametrize("syntax", [ImplicitVRLittleEndian, RLELossless, JPEG2000Lossless],
                         ids=["implicit", "rle", "j2k"])
def test_other_syntaxes_decode_in_parallel_to_the_same_values(tmp_path, syntax):
    series = write_ct_series(tmp_path, count=8, syntax=syntax)
    volume = load_volume(series, workers=2)
    np.testing.assert_array_equal(volume.voxels, _expected(series))
    assert volume.loaded.all()


@pytest.fixture
def j2k_in_processes(monkeypatch):
    """JPEG 2000 as where GDCM is missing: a one-core decoder, so decoder processes."""
    monkeypatch.setattr(parallel_decoding, "threads_within_each_image", lambda uid: False)


def test_jpeg2000_is_decoded_by_gdcm_threads_within_each_image(tmp_path):
    series = write_ct_series(tmp_path, count=PROCESS_POOL_MIN_SLICES + 2,
                             syntax=JPEG2000Lossless)
    assert threads_within_each_image(JPEG2000Lossless)  # GDCM is installed
    assert not use_decoder_processes(series, 500, workers=2)
    volume = load_volume(series, workers=2)
    np.testing.assert_array_equal(volume.voxels, _expected(series))
    assert decoder_pool_pids() == []


def test_large_jpeg2000_images_go_to_processes_to_keep_the_gui_free(tmp_path):
    small = write_ct_series(tmp_path, count=4, syntax=JPEG2000Lossless)
    large = dataclasses.replace(small, rows=2048, columns=2048)  # GIL held ~1 s per image
    assert not use_decoder_processes(small, 3, workers=2)
    assert use_decoder_processes(large, 3, workers=2)  # 3 x 4 Mpixel: worth a cold start
    assert not use_decoder_processes(large, 3, workers=1)


def test_long_compressed_series_decode_in_processes(tmp_path, j2k_in_processes):
    series = write_ct_series(tmp_path, count=PROCESS_POOL_MIN_SLICES + 2,
                             syntax=JPEG2000Lossless)  # OpenJPEG encodes 32x32, not 16x16
    assert use_decoder_processes(series, PROCESS_POOL_MIN_SLICES + 1, workers=2)
    assert not use_decoder_processes(series, PROCESS_POOL_MIN_SLICES - 1, workers=2)  # cold
    volume = load_volume(series, workers=2)
    np.testing.assert_array_equal(volume.voxels, _expected(series))
    assert len(decoder_pool_pids()) == (os.cpu_count() or 1)  # kept for the next series
    wait_for_decoder_pool(120.0)
    short = write_ct_series(tmp_path / "short", count=4, syntax=JPEG2000Lossless, seed=1)
    assert use_decoder_processes(short, 3, workers=2)  # warm now: short series too
    np.testing.assert_array_equal(load_volume(short, workers=2).voxels, _expected(short))


def test_rle_decodes_on_threads_not_processes(tmp_path):
    series = write_ct_series(tmp_path, count=4, size=16, syntax=RLELossless)
    assert not use_decoder_processes(series, 500, workers=2)  # pylibjpeg-rle releases the GIL


@pytest.fixture
def warm_pool():
    assert start_decoder_pool(2)
    try:
        assert wait_for_decoder_pool(120.0), "the decoder processes did not start"
        yield
    finally:
        shutdown_decoder_pool()


def test_warm_pool_decodes_short_series_to_the_same_values(tmp_path, warm_pool,
                                                           j2k_in_processes):
    series = write_ct_series(tmp_path, count=6, syntax=JPEG2000Lossless)
    assert use_decoder_processes(series, 5, workers=2)  # no start-up to pay: short series too
    for first in (0, 3):  # the pool is reused for a second load
        volume = load_volume(series, first_index=first, workers=2)
        np.testing.assert_array_equal(volume.voxels, _expected(series))
        assert volume.loaded.all()
    assert len(decoder_pool_pids()) == 2


def test_cancel_on_the_warm_pool_keeps_it_usable(tmp_path, warm_pool, j2k_in_processes):
    series = write_ct_series(tmp_path, count=12, syntax=JPEG2000Lossless)

    class CancelMidway(SilentTask):
        checks = 0

        def check_cancelled(self) -> None:
            self.checks += 1
            if self.checks == 4:  # the first slice, then two from the decoder processes
                self.cancel()
            super().check_cancelled()

    task = CancelMidway()
    with pytest.raises(Cancelled):
        load_volume(series, task, workers=2)
    assert task.partials[0][1].loaded.sum() < 12
    volume = load_volume(series, workers=2)
    np.testing.assert_array_equal(volume.voxels, _expected(series))


def test_no_processes_for_an_unguarded_user_script(monkeypatch, tmp_path):
    series = write_ct_series(tmp_path, count=2, syntax=RLELossless)
    script = types.ModuleType("__main__")
    script.__file__ = str(tmp_path / "my_analysis.py")  # would be re-run by a spawned child
    monkeypatch.setitem(sys.modules, "__main__", script)
    assert not use_decoder_processes(series, 500, workers=4)


def test_per_slice_rescale_switches_to_physical_values(tmp_path):
    series = write_ct_series(tmp_path, count=6, slopes={4: 2.0})
    volume = load_volume(series, first_index=0)
    assert volume.voxels.dtype == np.float32 and (volume.slope, volume.intercept) == (1.0, 0.0)
    for k, inst in enumerate(series.instances):
        ds = pydicom.dcmread(inst.path)
        np.testing.assert_allclose(volume.voxels[k], apply_modality_lut(ds.pixel_array, ds))


def test_files_that_differ_from_the_first_are_still_read_right(tmp_path):
    series = write_ct_series(tmp_path, count=6)
    odd = pydicom.dcmread(series.instances[1].path)  # another window: header bytes differ
    odd.WindowCenter = 300
    odd.save_as(series.instances[1].path)
    dirty = pydicom.dcmread(series.instances[2].path)  # garbage in the unused high bits
    values = np.frombuffer(dirty.PixelData, np.uint16).copy()
    values[5] |= 0xF000
    dirty.PixelData = values.tobytes()
    dirty.save_as(series.instances[2].path)
    with open(series.instances[4].path, "ab") as fh:  # bytes after the pixel data
        fh.write(b"\xfc\xff\xfc\xff" + b"OB\x00\x00" + (4).to_bytes(4, "little") + b"\x00" * 4)
    volume = load_volume(series, first_index=0)
    np.testing.assert_array_equal(volume.voxels, _expected(series))
    assert volume.voxels[2].max() < 4096


def test_a_bad_slice_is_left_blank_with_a_warning(tmp_path):
    series = write_ct_series(tmp_path, count=6)
    bad = Path(series.instances[2].path)
    bad.write_bytes(bad.read_bytes()[:600])
    volume = load_volume(series, first_index=4)
    assert not volume.loaded[2] and volume.loaded.sum() == 5
    assert not volume.voxels[2].any()  # blank, not left-over memory
    assert any(w.startswith("Slice 3 could not be loaded") for w in volume.warnings)
    expected = _expected(SeriesInfo("x", "y", instances=series.instances[3:]))
    np.testing.assert_array_equal(volume.voxels[3:], expected)


def test_a_series_that_cannot_be_decoded_raises(tmp_path):
    series = write_ct_series(tmp_path, count=3)
    for inst in series.instances:
        Path(inst.path).write_bytes(b"broken")
    with pytest.raises(DicomError):
        load_volume(series)


@pytest.mark.parametrize("count, workers", [(10, 1), (10, 2), (PROCESS_POOL_MIN_SLICES, 2)],
                         ids=["serial", "threads", "processes"])
def test_cancel_stops_loading(tmp_path, count, workers, j2k_in_processes):
    syntax = JPEG2000Lossless if count >= PROCESS_POOL_MIN_SLICES else RLELossless
    series = write_ct_series(tmp_path, count=count, syntax=syntax)

    class CancelAfterFirst(SilentTask):
        def partial(self, result) -> None:
            self.cancel()

    with pytest.raises(Cancelled):
        load_volume(series, CancelAfterFirst(), workers=workers)


def test_multiframe_instances_share_one_read():
    path = get_testdata_file("emri_small.dcm")
    ds = pydicom.dcmread(path)
    instances = [InstanceRef(path, ds.SOPInstanceUID, frame=f) for f in range(10)]
    series = SeriesInfo("emri", "s", modality="MR", instances=instances,
                        pixel_spacing_mm=(1.0, 1.0), slice_spacing_mm=5.0)
    volume = load_volume(series, workers=2)
    np.testing.assert_array_equal(volume.voxels, ds.pixel_array)
    assert volume.default_window is not None and volume.default_window[1] >= 1


@pytest.mark.real_data
def test_real_brain_mri_is_one_volume_with_true_geometry(shared_data):
    index = index_paths([shared_data / "brain-t1-dicom"])
    assert len(index.all_series()) == 1
    series = index.all_series()[0]
    volume = load_volume(series)
    assert volume.shape == (384, 384, 274) and volume.loaded.all() and volume.voxels.any()
    assert volume.spacing_mm[0] == pytest.approx(0.6667, abs=1e-3)  # from positions
    assert volume.spacing_mm[1:] == pytest.approx((0.6667, 0.7), abs=1e-3)
    steps = np.diff([volume.direction[:, 2] @ i.position_mm for i in series.instances])
    assert np.all(steps > 0.6)  # slices run along k, evenly
    labels = {p: slice_rendering.extract_plane(volume, p, 100).labels
              for p in slice_rendering.PLANES}
    assert labels["axial"] == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    assert labels["coronal"] == {"top": "S", "bottom": "I", "left": "R", "right": "L"}
    assert labels["sagittal"] == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    ds = pydicom.dcmread(series.instances[200].path)
    np.testing.assert_array_equal(volume.voxels[200], ds.pixel_array)


def test_enhanced_multiframe_through_the_indexer(tmp_path):
    path = write_enhanced_mr(tmp_path / "enhanced.dcm", n_slices=8, rows=12, cols=10)
    series = index_paths([path]).all_series()[0]
    volume = load_volume(series, workers=2)
    assert volume.shape == (8, 12, 10) and volume.loaded.all()
    for k in range(8):  # frames were stored scrambled; the volume is in spatial order
        np.testing.assert_array_equal(volume.voxels[k], default_pixels(k, 12, 10))
    assert volume.spacing_mm == pytest.approx((2.5, 0.8, 0.8))

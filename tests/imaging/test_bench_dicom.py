"""``stethoscan bench dicom`` runs end to end on a small generated series and reports its keys
(no timing assertions: timings belong to the benchmark, not to the tests)."""

from __future__ import annotations

import json

import pydicom
import pytest

from stethoscan.cli import main
from stethoscan.commands.bench_dicom import write_synthetic_ct_series


def test_synthetic_series_is_a_valid_ct(tmp_path):
    paths = write_synthetic_ct_series(tmp_path, slices=3, size=32)
    ds = pydicom.dcmread(paths[1])
    hu = ds.pixel_array * float(ds.RescaleSlope) + float(ds.RescaleIntercept)
    assert ds.Modality == "CT" and hu.shape == (32, 32)
    centre, lung, corner = hu[16, 16], hu[15, 8], hu[1, 1]
    assert -60 < centre < 140 and -950 < lung < -700 and corner < -950  # body, lung, air
    assert [float(pydicom.dcmread(p).ImagePositionPatient[2]) for p in paths] == [0, -1, -2]


@pytest.mark.slow
def test_bench_dicom_reports_every_figure(capsys):
    code = main(["bench", "dicom", "--json", "--slices", "8", "--size", "32", "--repeats", "1",
                 "--compressed-slices", "3"])
    assert code == 0
    report = json.loads(capsys.readouterr().out)
    assert report["series"] == {"slices": 8, "rows": 32, "columns": 32, "source": "generated",
                                "transfer_syntax": "Explicit VR Little Endian", "volume_mb": 0.0}
    for reader in ("stethoscan", "pydicom_loop", "simpleitk"):
        figures = report["readers"][reader]
        assert "error" not in figures, figures
        assert figures["seconds"] > 0 and figures["peak_memory_mb"] is not None
    assert report["readers"]["stethoscan"]["first_slice_seconds"] > 0
    assert report["readers"]["stethoscan"]["index_seconds"] > 0
    assert set(report["ratios"]) == {"whole_volume_vs_simpleitk", "whole_volume_vs_pydicom_loop",
                                     "best_vs_simpleitk", "best_vs_pydicom_loop"}
    assert report["machine"]["cores"] >= 1
    assert report["redraw"]["slice_shape"] == [32, 32]
    for key in ("scroll_median_ms", "scroll_p95_ms", "window_drag_median_ms",
                "coronal_median_ms", "rgb_render_median_ms", "baseline_float_median_ms"):
        assert report["redraw"][key] > 0
    compressed = report["compressed"]
    assert compressed["workers"] >= 2
    j2k, rle, jls = compressed["jpeg2000"], compressed["rle"], compressed["jpeg_ls"]
    assert j2k["decoded_by"] == {"serial": "one thread (pylibjpeg-openjpeg)",
                                 "parallel": "GDCM threads within each image"}
    assert rle["decoded_by"] == {"serial": "one thread", "parallel": "threads"}
    cases = [(j2k, ("parallel",)), (rle, ("parallel",))]
    if "skipped" not in jls:  # dcmtk installed
        assert jls["decoded_by"] == {"serial": "one thread", "cold": "threads",
                                     "warm": "processes"}  # 3 slices: too few for a cold start
        cases.append((jls, ("cold", "warm")))
    for figures, modes in cases:
        assert figures["slices"] == 3 and figures["pixels_identical_to_serial"]
        assert figures["serial_seconds"] > 0 and figures["serial_cpu_seconds"] > 0
        assert figures["serial_cores_used"] >= 0
        for mode in modes:
            assert figures[f"{mode}_seconds"] > 0 and figures[f"{mode}_cpu_seconds"] >= 0
            assert figures[f"speedup_{mode}"] > 0
    assert set(report["targets_met"]) == {"whole_volume_vs_simpleitk",
                                          "whole_volume_vs_pydicom_loop", "peak_memory",
                                          "first_slice", "redraw"}

"""``stethoscan bench inference --json`` runs and reports every figure (no timing asserted)."""

from __future__ import annotations

import json

import pytest

from stethoscan.cli import main

pytestmark = pytest.mark.slow


def test_bench_inference_prints_the_figures(capsys):
    assert main(["bench", "inference", "--json", "--repeat", "1", "--no-extra"]) == 0
    figures = json.loads(capsys.readouterr().out)
    for kind in ("image2d", "volume3d"):
        case = figures[kind]
        for key in ("forward_ms", "gradcam_ms", "captum_layergradcam_ms", "gradcam_vs_captum_ratio",
                    "threads", "load_average_1min"):  # fmt: skip
            assert key in case, (kind, key, case)
        assert case["max_abs_map_difference_vs_captum"] < 1e-4
    assert figures["volume3d"]["input_shape"] == [128, 128, 128]
    assert figures["volume3d"]["peak_rss_mb"] > 0

"""The saliency PNG of `stethoscan predict --out`: the map over the scan or spectrogram it explains."""

from __future__ import annotations

import json

import numpy as np
import pytest

from stethoscan.commands.saliency_figure import figure_panels, save_saliency_png
from stethoscan.imaging.volume import Volume
from stethoscan.inference.prediction import Prediction

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def _prediction(saliency, space, underlay, axes=None) -> Prediction:
    return Prediction("m", "1", ["a", "b"], ["", ""], [0.3, 0.7], "b", 0.7, saliency=saliency,
                      saliency_space=space, saliency_method="gradcam", saliency_axes=axes or {},
                      underlay=underlay)  # fmt: skip


def test_volume_map_is_drawn_over_the_scan_in_three_oriented_planes(tmp_path):
    """Axial slices stored head-first (LPS identity): the axial plane shows A at the top and the
    patient's right on the left (radiological), the others S at the top; the map is resliced
    with the scan, so its peak stays where it was."""
    shape = (20, 30, 40)  # slices (k: inferior -> superior), rows (j: A -> P), columns (i: R -> L)
    anatomy = np.arange(np.prod(shape), dtype=np.int16).reshape(shape)
    volume = Volume(anatomy, (3.0, 1.0, 1.0), slope=2.0, intercept=-10.0)
    saliency = np.zeros(shape, np.float32)
    saliency[12, 7, 31] = 1.0
    panels = figure_panels(_prediction(saliency, "volume", volume))
    assert [p.title for p in panels] == ["axial (slice 13)", "coronal (row 8)", "sagittal (column 32)"]
    axial, coronal, sagittal = panels
    assert axial.labels == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    assert coronal.labels["top"] == "S" and coronal.labels["left"] == "R"
    assert sagittal.labels["top"] == "S" and sagittal.labels["left"] == "A"
    assert coronal.aspect == pytest.approx(3.0)  # 3 mm slices drawn 3 times as tall
    for panel in panels:  # the underlay is the scan in physical units, under the map's peak
        r, c = np.unravel_index(int(np.argmax(panel.saliency)), panel.saliency.shape)
        assert panel.saliency[r, c] == 1.0
        assert panel.underlay[r, c] == pytest.approx(2.0 * anatomy[12, 7, 31] - 10.0)
    path = save_saliency_png(_prediction(saliency, "volume", volume), tmp_path / "s.png")
    assert path.read_bytes()[:8] == PNG_MAGIC


def test_without_a_matching_underlay_the_map_is_drawn_alone(tmp_path):
    saliency = np.random.default_rng(0).random((8, 10, 12)).astype(np.float32)
    wrong = Volume(np.zeros((8, 10, 11), np.int16), (1.0, 1.0, 1.0))
    panels = figure_panels(_prediction(saliency, "volume", wrong))
    assert len(panels) == 3 and all(p.underlay is None and not p.labels for p in panels)
    spectrogram = np.random.default_rng(1).random((32, 50)).astype(np.float32)
    axes = {"times_s": list(np.arange(50) * 0.02), "frequencies_hz": list(np.linspace(50, 2000, 32))}
    under = figure_panels(_prediction(spectrogram, "spectrogram", -40 + 30 * spectrogram, axes))
    assert under[0].underlay is not None and under[0].underlay.shape == (32, 50)
    assert figure_panels(_prediction(spectrogram, "spectrogram", np.zeros((32, 49)), axes))[0].underlay is None
    assert save_saliency_png(_prediction(spectrogram, "spectrogram", -40 + 30 * spectrogram, axes),
                             tmp_path / "a.png").read_bytes()[:8] == PNG_MAGIC  # fmt: skip


def test_the_underlay_never_goes_into_the_json():
    volume = Volume(np.zeros((4, 4, 4), np.int16), (1.0, 1.0, 1.0))
    prediction = _prediction(np.zeros((4, 4, 4), np.float32), "volume", volume)
    data = json.loads(prediction.to_json())
    assert "underlay" not in data and data["saliency_shape"] == [4, 4, 4]


@pytest.mark.real_data
def test_the_respiratory_workflow_gives_the_recordings_spectrogram_as_underlay(shared_data):
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.workflows.respiratory_prediction import run

    clip = read_audio(shared_data / "icbhi-sample" / "103_2b2_Ar_mc_LittC2SE.wav")
    prediction = run("respiratory-cycles", clip, {"saliency": "auto"})
    assert prediction.saliency is not None  # 103 has abnormal calls, so there are maps
    assert prediction.underlay.shape == prediction.saliency.shape
    # dB of the recording, not a copy of the map: louder low bands than the top ones
    assert prediction.underlay[:8].mean() > prediction.underlay[-8:].mean() + 6.0
    assert figure_panels(prediction)[0].underlay is prediction.underlay or np.array_equal(
        figure_panels(prediction)[0].underlay, prediction.underlay)


def test_the_figure_names_its_method_and_has_a_colour_bar():
    """A clinician reads "Integrated Gradients", not "ig", and what the colours mean."""
    from stethoscan.commands.saliency_figure import saliency_figure

    spectrogram = np.random.default_rng(2).random((32, 50)).astype(np.float32)
    axes = {"times_s": list(np.arange(50) * 0.02), "frequencies_hz": list(np.linspace(50, 2000, 32))}
    prediction = _prediction(spectrogram, "spectrogram", -40 + 30 * spectrogram, axes)
    prediction.saliency_method = "ig"
    figure = saliency_figure(prediction)
    assert figure._suptitle.get_text().startswith("m: Integrated Gradients map for 'b' - ")
    bar = [ax for ax in figure.axes if ax.get_label() == "<colorbar>"]
    assert len(figure.axes) == 2 and len(bar) == 1
    assert bar[0].get_ylabel() == "saliency (1 = the map's peak; below 0.2 not drawn)"
    volume = Volume(np.zeros((6, 8, 10), np.int16), (1.0, 1.0, 1.0))
    alone = saliency_figure(_prediction(np.ones((6, 8, 9), np.float32), "volume", volume))
    assert len(alone.axes) == 4  # three planes and one bar for all
    assert [ax.get_ylabel() for ax in alone.axes if ax.get_label() == "<colorbar>"] == ["saliency (1 = the map's peak)"]


@pytest.mark.real_data
def test_a_map_asked_for_but_not_made_is_explained(shared_data):
    """`predict --saliency gradcam` on the respiratory model wrote no saliency.png and said
    nothing; the MCI pipeline says why, and so does this one now."""
    from stethoscan.audio.audio_files import read_audio
    from stethoscan.workflows.respiratory_prediction import run

    clip = read_audio(shared_data / "icbhi-sample" / "103_2b2_Ar_mc_LittC2SE.wav")
    prediction = run("respiratory-cycles", clip, {"saliency": "gradcam"})
    assert prediction.saliency is None
    assert ("No saliency map: Grad-CAM did not pass the sanity checks for respiratory-cycles, so it "
            "is not offered (offered: Integrated Gradients).") in prediction.warnings  # fmt: skip
    assert not any(w.startswith("No saliency map") for w in run("respiratory-cycles", clip, {"saliency": "none"}).warnings)

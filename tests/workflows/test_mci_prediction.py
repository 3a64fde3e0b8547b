"""The bundled MCI model through its workflow: history only, refusals, the real brain MRI."""

from __future__ import annotations

import numpy as np
import pytest

from stethoscan.core.errors import InputMismatchError
from stethoscan.workflows import mci_prediction

PATIENT = {"age_years": 76, "sex": "F", "education_years": 12}
STABLE = [{"years_from_first": t, "mmse": 29, "moca": 27} for t in range(4)]
SLOW = [{"years_from_first": t, "mmse": 28 - t, "moca": 24 - t} for t in range(3)]
DECLINING = [{"years_from_first": t, "mmse": 24 - 3 * t, "moca": 18 - 3 * t} for t in range(4)]


@pytest.fixture(scope="module")
def model():
    from stethoscan.inference.runtime import load_model

    return load_model("mci-fusion")


def test_bundled_package_says_what_it_is(model):
    info = model.manifest.model
    assert info.pipeline == "mci_fusion" and info.research_use_only and info.synthetic_training_data
    assert sorted(info.input_modalities) == ["clinical_scores", "scan"]
    assert [o.label for o in model.manifest.outputs] == ["CN", "MCI", "dementia"]


def test_scores_order_the_three_classes(model):
    stable = mci_prediction.run(model, None, {"visits": STABLE, "patient": PATIENT})
    slow = mci_prediction.run(model, None, {"visits": SLOW, "patient": PATIENT})
    declining = mci_prediction.run(model, None, {"visits": DECLINING, "patient": PATIENT})
    assert [p.top_label for p in (stable, slow, declining)] == ["CN", "MCI", "dementia"]
    assert declining.probability_of("dementia") > stable.probability_of("dementia") + 0.5
    assert declining.inputs_used == ["clinical_scores"]
    assert declining.contributions["clinical_scores"] != 0 and declining.contributions["scan"] == 0


def test_nothing_given_is_refused(model):
    with pytest.raises(InputMismatchError, match="needs a T1 brain MRI or"):
        mci_prediction.run(model, None, {})


def test_demographics_count_only_beside_visits_and_the_result_says_so(model):
    with pytest.raises(InputMismatchError, match="needs a T1 brain MRI or"):
        mci_prediction.run(model, None, {"visits": [], "patient": PATIENT})  # no history at all
    woman = mci_prediction.run(model, None, {"visits": SLOW, "patient": PATIENT})
    assert woman.details["history_inputs"] == ["MMSE", "MoCA", "age", "sex", "education"]
    assert woman.inputs_used == ["clinical_scores"] and woman.contributions["scan"] == 0
    man = mci_prediction.run(model, None, {"visits": SLOW, "patient": {**PATIENT, "sex": "M"}})
    assert not np.allclose(man.probabilities, woman.probabilities, atol=1e-6)  # used with visits
    scores_only = mci_prediction.run(model, None, {"visits": [{"years_from_first": 0, "moca": 20}]})
    assert scores_only.details["history_inputs"] == ["MoCA"]


def test_a_scan_that_is_not_t1_is_refused_or_left_out(model):
    from stethoscan.imaging.volume import Volume

    ct = Volume(voxels=np.zeros((60, 64, 64), np.int16), spacing_mm=(2.0, 2.0, 2.0), modality="CT")
    with pytest.raises(InputMismatchError, match="not MR"):
        mci_prediction.run(model, None, {"volume": ct})
    prediction = mci_prediction.run(model, None, {"volume": ct, "visits": STABLE})
    assert prediction.inputs_used == ["clinical_scores"]
    assert any("scan was not used" in w and "not MR" in w for w in prediction.warnings)


@pytest.mark.real_data
def test_real_brain_mri_prediction_and_gradcam_in_the_brain(model, shared_data):
    from stethoscan.inference.saliency.compute import compute_saliency
    from stethoscan.training.mci_dataset import load_volume_any

    volume, hints = load_volume_any(shared_data / "brain-t1-dicom")
    options = {"volume": volume, **hints, "visits": STABLE, "patient": PATIENT,
               "saliency": "gradcam"}
    prediction = mci_prediction.run(model, None, options)
    assert prediction.inputs_used == ["scan", "clinical_scores"]
    assert set(prediction.contributions) == {"scan", "clinical_scores"}
    assert prediction.contributions["scan"] != 0
    assert "Not for diagnostic use" == prediction.disclaimer
    validated = "gradcam" in model.validated_saliency_methods
    if not validated:  # the program must say why there is no map, never stay silent
        assert prediction.saliency is None
        assert any("did not pass the sanity checks" in w for w in prediction.warnings)
    # the map itself (as a developer sees it when the method is not offered), on the original grid
    pre = mci_prediction.preprocess_brain_for_model(volume, hints)
    cam = compute_saliency(model, {"image": pre.model_input[None, None]}, "gradcam",
                           require_validated=False)
    saliency = pre.box_to_original(np.where(pre.box_mask, cam, 0.0))
    if validated:
        assert np.allclose(prediction.saliency, saliency, atol=1e-5)
        assert prediction.underlay is volume  # for the CLI's figure: the map over the scan
    overlays = mci_prediction.preprocess_for_viewer(volume, **hints)
    brain = overlays["brain_mask"]["data"].astype(bool)
    assert saliency.shape == brain.shape == volume.shape and saliency.max() > 0
    peak = np.unravel_index(int(np.argmax(saliency)), saliency.shape)
    assert brain[peak]
    assert saliency[brain].sum() / saliency.sum() > 0.95  # the map lies inside the brain
    regions = mci_prediction.name_regions(cam * pre.box_mask, pre)
    assert regions and all("region, slices" in r for r in regions)

"""Saliency maps: Grad-CAM (ours, with hooks), Integrated Gradients and occlusion (captum),
region descriptions in words, and the sanity checks that decide which methods a model offers.

torch is imported by the submodules ``gradcam``, ``attribution``, ``compute`` and ``sanity``;
``regions`` and this package are torch-free.
"""

from __future__ import annotations

METHODS = ("gradcam", "ig", "occlusion")
METHOD_TITLES = {
    "gradcam": "Grad-CAM",
    "ig": "Integrated Gradients",
    "occlusion": "Occlusion",
}
SPATIAL_INPUTS = ("image", "volume", "spectrogram")  # input names a saliency map is drawn on

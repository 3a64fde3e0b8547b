"""MPR planes, radiological orientation, labels, aspect and PNG output."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from stethoscan.core.errors import ValidationError
from stethoscan.imaging import slice_rendering as sr
from stethoscan.imaging.volume import Volume

AXIAL_DIRECTION = np.eye(3)  # columns: i -> patient left, j -> posterior, k -> superior
# Sagittal acquisition: i (columns) -> posterior, j (rows) -> inferior, k (slices) -> left
SAGITTAL_DIRECTION = np.column_stack([(0, 1, 0), (0, 0, -1), (1, 0, 0)]).astype(float)


def _volume(direction: np.ndarray, shape=(6, 8, 10), spacing=(3.0, 0.5, 0.5), **kw) -> Volume:
    return Volume(np.zeros(shape, dtype=np.int16), spacing, direction=direction, **kw)


def _mark_patient_corner(volume: Volume, value: int = 1000) -> None:
    """Mark the voxel that is most left, most anterior and most superior."""
    d = volume.direction
    k, j, i = (np.array(volume.shape) - 1).astype(float)
    best = max(np.ndindex(2, 2, 2), key=lambda c: float(
        (d @ np.array([c[2] * i, c[1] * j, c[0] * k])) @ np.array([1.0, -1.0, 1.0])))
    index = tuple(int(c * (n - 1)) for c, n in zip(best, volume.shape, strict=True))
    volume.voxels[index] = value


@pytest.mark.parametrize("vector, label", [
    ((1, 0, 0), "L"), ((-1, 0, 0), "R"), ((0, -1, 0), "A"), ((0, 1, 0), "P"),
    ((0, 0, 1), "S"), ((0, 0, -1), "I"), ((0.7071, -0.7071, 0), "LA"),
    ((0.96, 0.0, 0.28), "L"), ((0.9, 0.0, -0.436), "LI"), ((0.6, -0.64, 0.48), "ALS"),
])
def test_orientation_letters(vector, label):
    assert sr.orientation_label(np.array(vector)) == label


@pytest.mark.parametrize("direction", [AXIAL_DIRECTION, SAGITTAL_DIRECTION],
                         ids=["axial-acquisition", "sagittal-acquisition"])
def test_planes_are_shown_radiologically(direction):
    volume = _volume(direction)
    _mark_patient_corner(volume)  # left, anterior, superior
    expected = {  # plane -> (labels, (row, col) of the marked voxel as fractions)
        "axial": ({"top": "A", "bottom": "P", "left": "R", "right": "L"}, (0, 1)),
        "coronal": ({"top": "S", "bottom": "I", "left": "R", "right": "L"}, (0, 1)),
        "sagittal": ({"top": "S", "bottom": "I", "left": "A", "right": "P"}, (0, 0)),
    }
    for plane, (labels, (row, col)) in expected.items():
        fixed = sr.plane_axes(volume, plane)[0]
        count = sr.plane_count(volume, plane)
        hits = [sr.extract_plane(volume, plane, n) for n in range(count)]
        shown = [p for p in hits if p.data.max() == 1000]
        assert len(shown) == 1, plane
        image = shown[0]
        assert image.labels == labels, plane
        r, c = np.argwhere(image.data == 1000)[0]
        assert (r, c) == (row * (image.data.shape[0] - 1), col * (image.data.shape[1] - 1)), plane
        assert np.shares_memory(image.data, volume.voxels)  # a view, not a copy
        assert 0 <= fixed < 3


def test_pixel_spacing_and_square_pixels():
    volume = _volume(AXIAL_DIRECTION, shape=(6, 8, 10), spacing=(3.0, 0.5, 0.5))
    coronal = sr.extract_plane(volume, "coronal", 2)
    assert coronal.data.shape == (6, 10)
    assert coronal.pixel_spacing_mm == (3.0, 0.5) and coronal.aspect == 6.0
    rgb = sr.render_plane(coronal, 0, 100)
    square = sr.to_square_pixels(rgb, coronal.pixel_spacing_mm)
    assert square.shape == (36, 10, 3)
    axial = sr.extract_plane(volume, "axial", 1)
    assert sr.to_square_pixels(sr.render_plane(axial, 0, 100), axial.pixel_spacing_mm).shape == (
        8, 10, 3)


def test_render_windows_and_inverts_monochrome1():
    volume = _volume(AXIAL_DIRECTION, photometric="MONOCHROME1", slope=2.0, intercept=-100.0)
    volume.voxels[:, :, 5:] = 100  # physical 100 on the right half, -100 on the left
    plane = sr.extract_acquired_slice(volume, 0)
    rgb = sr.render_volume_plane(volume, plane, (0.0, 100.0))
    assert rgb.dtype == np.uint8 and rgb.shape == (8, 10, 3)
    assert np.all(rgb[..., 0] == rgb[..., 2])
    assert rgb[0, 9, 0] == 0 and rgb[0, 0, 0] == 255  # bright becomes dark: MONOCHROME1
    assert sr.render_volume_plane(volume, plane, (0.0, 100.0), invert=False)[0, 9, 0] == 255


def test_rgb_volume_and_bad_arguments():
    volume = Volume(np.full((3, 4, 5, 3), 40, dtype=np.uint8), (1.0, 1.0, 1.0))
    plane = sr.extract_plane(volume, "sagittal", 1)
    assert plane.data.shape == (3, 4, 3)
    assert sr.render_plane(plane, 0, 1).max() == 40
    with pytest.raises(ValidationError):
        sr.extract_plane(volume, "oblique", 0)
    with pytest.raises(ValidationError):
        sr.extract_plane(volume, "axial", 99)


def test_png_has_labels_and_size(tmp_path):
    grey = np.zeros((120, 160, 3), dtype=np.uint8)
    path = tmp_path / "plane.png"
    sr.write_png(grey, path, {"top": "A", "bottom": "P", "left": "R", "right": "L"}, "W 80 L 40")
    image = np.asarray(Image.open(path))
    assert image.shape == (120, 160, 3)
    yellow = (image[..., 0] > 200) & (image[..., 1] > 180) & (image[..., 2] < 150)
    rows, cols = np.nonzero(yellow)
    assert rows.min() < 20 and rows.max() > 100  # letters at the top and bottom edges
    assert cols.min() < 20 and cols.max() > 140  # and at the left and right edges

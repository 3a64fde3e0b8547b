"""The scan viewer on synthetic volumes with known values: W/L, presets, invert, scrolling, MPR,
cursor values, measurements (kept per series), ROI statistics, overlays, tag browser, progressive loading, cine."""

from __future__ import annotations

import numpy as np
import pydicom
import pytest
from gui_gestures import click, drag, hover, view_to_viewport, wheel
from PySide6.QtCore import QPointF, Qt
from synthetic_scans import (
    CT_SHAPE,
    CT_SPACING,
    ct_volume,
    ct_voxels,
    progressive_loader,
    series_for,
)

from stethoscan.core.errors import DicomError
from stethoscan.gui.viewer.measurement_tools import roi_mask, roi_statistics
from stethoscan.gui.viewer.scan_viewer import ScanViewer
from stethoscan.gui.viewer.viewer_state import ScanLabels
from stethoscan.imaging.volume import Volume
from stethoscan.imaging.windowing import apply_window


@pytest.fixture
def context(make_context):
    return make_context()


@pytest.fixture
def viewer(context, qtbot):
    widget = ScanViewer(context)
    qtbot.addWidget(widget)
    widget.resize(900, 700)
    widget.show()
    qtbot.waitExposed(widget)
    yield widget
    widget.set_cine(False)


def show_ct(viewer, first_index: int = 10) -> Volume:
    volume = ct_volume()
    labels = ScanLabels(patient_name="TEST^Alice", patient_id="P001", modality="CT",
                        series_description="Head")
    viewer.show_volume(volume, series_for(CT_SHAPE[0]), labels, first_index=first_index)
    return volume


def expected_grey(hu: float, center: float, width: float) -> int:
    """DICOM PS3.3 C.11.2.1.2.1 linear window, rounded."""
    y = ((hu - (center - 0.5)) / (width - 1.0) + 0.5) * 255.0
    return int(np.floor(min(max(y, 0.0), 255.0) + 0.5))


def grey_at(view, j: int, i: int) -> int:
    """Displayed grey level of axial pixel (row j, column i) in the main view."""
    return int(view.displayed_image()[j, i])


def shown(viewer, stored: np.ndarray) -> np.ndarray:
    """What the viewer must draw for ``stored`` values with its current window (as `dicom render`)."""
    volume, state = viewer.state.volume, viewer.state
    return apply_window(stored, state.center, state.width, volume.slope, volume.intercept, state.invert)


SOFT = (20, 12)  # (j, i) of a 40 HU voxel on slices 5..14
AIR = (2, 2)


def test_right_drag_changes_window_and_the_image_levels(viewer, qtbot):
    show_ct(viewer)
    view = viewer.planes.main
    assert grey_at(view, *SOFT) == expected_grey(40, 40, 400) == 128
    assert grey_at(view, *AIR) == 0
    before = (viewer.state.center, viewer.state.width)
    drag(qtbot, view, QPointF(300, 300), QPointF(380, 260), button=Qt.MouseButton.RightButton)
    center, width = viewer.state.center, viewer.state.width
    assert width > before[1]  # dragged right: wider
    assert center > before[0]  # dragged up: higher level
    qtbot.waitUntil(lambda: grey_at(view, *SOFT) == expected_grey(40, center, width), timeout=2000)
    assert grey_at(view, *SOFT) != 128
    assert viewer.preset_combo.currentIndex() == -1  # shows "Custom"


def test_presets_per_modality(viewer, qtbot):
    show_ct(viewer)
    names = [viewer.preset_combo.itemText(n) for n in range(viewer.preset_combo.count())]
    for wanted in ("Brain", "Subdural", "Stroke", "Lung", "Mediastinum", "Bone", "Abdomen", "Liver"):
        assert wanted in names
    viewer.apply_preset("Lung")
    assert (viewer.state.center, viewer.state.width) == (-600.0, 1500.0)
    view = viewer.planes.main
    qtbot.waitUntil(lambda: grey_at(view, *SOFT) == expected_grey(40, -600, 1500) == 236, timeout=2000)
    assert grey_at(view, *AIR) == expected_grey(-1000, -600, 1500) == 60
    assert viewer.preset_combo.currentText() == "Lung"
    viewer.apply_preset("Default")
    assert (viewer.state.center, viewer.state.width) == (40.0, 400.0)
    mr = Volume(voxels=ct_voxels(), spacing_mm=(1.0, 1.0, 1.0), modality="MR")
    viewer.show_volume(mr, series_for(CT_SHAPE[0], modality="MR"))
    assert [viewer.preset_combo.itemText(n) for n in range(viewer.preset_combo.count())] == ["Default"]
    assert viewer.state.width > 1.0  # automatic window from the data


def test_invert_swaps_the_grey_scale(viewer, qtbot):
    show_ct(viewer)
    view = viewer.planes.main
    assert (grey_at(view, *AIR), grey_at(view, *SOFT)) == (0, 128)
    viewer.actions_["invert"].trigger()
    assert viewer.state.invert
    assert (grey_at(view, *AIR), grey_at(view, *SOFT)) == (255, 127)
    viewer.actions_["invert"].trigger()
    assert (grey_at(view, *AIR), grey_at(view, *SOFT)) == (0, 128)


def test_scroll_by_wheel_keys_and_scrollbar(viewer, qtbot):
    volume = show_ct(viewer, first_index=10)
    view = viewer.planes.main
    centre = QPointF(view.graphics.width() / 2, view.graphics.height() / 2)
    wheel(view, centre, -1)
    assert view.index == 11
    wheel(view, centre, +1)
    wheel(view, centre, +1)
    assert view.index == 9
    viewer.actions_["next_slice"].trigger()
    assert view.index == 10 and view.scrollbar.value() == 10
    view.scrollbar.setValue(3)
    assert view.index == 3 and viewer.state.cursor[0] == 3
    np.testing.assert_array_equal(view.displayed_image(), shown(viewer, volume.voxels[3]))
    view.graphics.setFocus()
    qtbot.keyClick(view.graphics, Qt.Key.Key_PageDown)
    assert view.index == 4


def test_ctrl_wheel_zooms_and_reset_restores(viewer, qtbot):
    show_ct(viewer)
    view = viewer.planes.main
    zoom = view.zoom_factor()
    centre = QPointF(view.graphics.width() / 2, view.graphics.height() / 2)
    wheel(view, centre, +3, Qt.KeyboardModifier.ControlModifier)
    assert view.zoom_factor() > zoom * 1.2
    viewer.actions_["reset"].trigger()
    assert view.zoom_factor() == pytest.approx(zoom, rel=1e-3)


def test_left_drag_pans(viewer, qtbot):
    show_ct(viewer)
    view = viewer.planes.main
    before = view.view_box.viewRect()
    drag(qtbot, view, QPointF(300, 300), QPointF(200, 300))
    after = view.view_box.viewRect()
    assert after.left() > before.left() + 1.0  # dragged left: the view moved right over the image


def test_three_planes_have_the_right_aspect_labels_and_a_linked_crosshair(viewer, qtbot):
    show_ct(viewer, first_index=10)
    viewer.actions_["three_plane"].trigger()
    planes = viewer.planes
    axial, coronal, sagittal = (planes.view_for(p) for p in ("axial", "coronal", "sagittal"))
    assert axial is planes.main and coronal.isVisible() and sagittal.isVisible()
    nk, nj, ni = CT_SHAPE
    assert coronal.image_rect().height() == pytest.approx(nk * 2.5)  # slices x slice spacing
    assert coronal.image_rect().width() == pytest.approx(ni * 0.8)
    assert sagittal.image_rect().width() == pytest.approx(nj * 0.5)
    assert axial.plane_image.labels == {"top": "A", "bottom": "P", "left": "R", "right": "L"}
    assert coronal.plane_image.labels == {"top": "S", "bottom": "I", "left": "R", "right": "L"}
    assert sagittal.plane_image.labels == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    # click in the coronal view: the cross-hair moves, the axial and sagittal views follow
    target_k, target_i = 4, 30
    row = nk - 1 - target_k  # superior at the top
    pos = view_to_viewport(coronal, (target_i + 0.5) * 0.8, (row + 0.5) * 2.5)
    click(qtbot, coronal, pos)
    k, j, i = viewer.state.cursor
    assert (k, i) == (target_k, target_i)
    assert axial.index == target_k and sagittal.index == target_i
    assert axial.v_line.value() == pytest.approx((target_i + 0.5) * 0.8)
    assert axial.h_line.value() == pytest.approx((j + 0.5) * 0.5)
    np.testing.assert_array_equal(axial.displayed_image(), shown(viewer, viewer.state.volume.voxels[target_k]))
    # scrolling the sagittal view moves the axial view's vertical cross-hair line
    sagittal.scroll(+1)
    assert viewer.state.cursor[2] == target_i + 1
    assert axial.v_line.value() == pytest.approx((target_i + 1.5) * 0.8)


def test_value_under_the_cursor_is_in_hu_with_voxel_and_patient_position(viewer, qtbot):
    show_ct(viewer, first_index=10)
    view = viewer.planes.main
    readings = []
    viewer.cursor_reading.connect(readings.append)
    # voxel (k=10, j=20, i=12) is in the 40 HU block; (k=10, j=45, i=35) in the 1000 HU block
    hover(qtbot, view, view_to_viewport(view, 12.5 * 0.8, 20.5 * 0.5))
    assert readings and readings[-1].startswith("40 HU")
    assert "voxel (12, 20, 10)" in readings[-1]
    x, y, z = -10.0 + 12 * 0.8, -20.0 + 20 * 0.5, 30.0 + 10 * 2.5
    assert f"({x:.1f}, {y:.1f}, {z:.1f}) mm" in readings[-1]
    hover(qtbot, view, view_to_viewport(view, 35.5 * 0.8, 45.5 * 0.5))
    assert readings[-1].startswith("1000 HU")
    hover(qtbot, view, view_to_viewport(view, 1.5 * 0.8, 1.5 * 0.5))
    assert readings[-1].startswith("-1000 HU")


def test_distance_measurement_in_mm(viewer, qtbot):
    show_ct(viewer)
    view = viewer.planes.main
    viewer.actions_["tool_distance"].trigger()
    start, end = QPointF(5.0, 4.0), QPointF(29.0, 22.0)  # mm: a 3-4-5 triangle, 30 mm long
    drag(qtbot, view, view_to_viewport(view, start.x(), start.y()), view_to_viewport(view, end.x(), end.y()))
    assert len(view.measurements.items) == 1
    measured = view.measurements.items[0]
    assert measured.kind == "distance"
    assert measured.result == pytest.approx(30.0, abs=0.6)  # within a screen pixel
    exact = view.measurements.add("distance", QPointF(0, 0), QPointF(30.0, 40.0))
    assert exact.result == pytest.approx(50.0)
    assert exact.label.textItem.toPlainText() == "50.0 mm"
    view.scroll(1)  # measurements belong to their slice
    assert not exact.item.isVisible()
    view.scroll(-1)
    assert exact.item.isVisible()


def test_roi_statistics_are_exact(viewer, qtbot):
    show_ct(viewer, first_index=10)
    view = viewer.planes.main
    # exactly the 40 HU block in rows 10..29, columns 8..23 of slice 10
    rect = view.measurements.add("rectangle", QPointF(8 * 0.8, 10 * 0.5), QPointF(24 * 0.8, 30 * 0.5))
    stats = rect.result
    assert stats.pixels == 20 * 16
    assert (stats.mean, stats.sd, stats.minimum, stats.maximum) == (40.0, 0.0, 40.0, 40.0)
    assert stats.area_mm2 == pytest.approx(16 * 0.8 * 20 * 0.5)
    assert "Mean 40.0 HU" in rect.label.textItem.toPlainText()
    # half in the block (columns 16..23), half in air (columns 24..31), rows 10..19
    mixed = view.measurements.add("rectangle", QPointF(16 * 0.8, 10 * 0.5), QPointF(32 * 0.8, 20 * 0.5)).result
    values = np.array([40.0] * 80 + [-1000.0] * 80)
    assert mixed.pixels == 160
    assert mixed.mean == pytest.approx(values.mean())
    assert mixed.sd == pytest.approx(values.std(ddof=1))
    assert (mixed.minimum, mixed.maximum) == (-1000.0, 40.0)
    ellipse = view.measurements.add("ellipse", QPointF(8 * 0.8, 10 * 0.5), QPointF(24 * 0.8, 30 * 0.5)).result
    assert ellipse.area_mm2 == pytest.approx(np.pi / 4 * 12.8 * 10.0)
    assert ellipse.mean == 40.0 and ellipse.pixels < 320


def test_roi_mask_uses_pixel_centres():
    mask = roi_mask((10, 10), 1.0, 1.0, 2.0, 3.0, 4.0, 2.0, "rectangle")
    assert mask.sum() == 4 * 2 and mask[3:5, 2:6].all()
    circle = roi_mask((101, 101), 1.0, 1.0, 0.5, 0.5, 100.0, 100.0, "ellipse")
    assert circle.sum() == pytest.approx(np.pi * 50 * 50, rel=0.01)
    values = np.arange(100, dtype=np.float32).reshape(10, 10)
    stats = roi_statistics(values, 2.0, 0.5, 0.0, 0.0, 1.0, 4.0, "rectangle")  # rows 0-1, cols 0-1
    assert stats.pixels == 4 and stats.mean == pytest.approx((0 + 1 + 10 + 11) / 4)
    assert stats.area_mm2 == pytest.approx(4.0)


def test_drawn_roi_reports_statistics(viewer, qtbot):
    show_ct(viewer, first_index=10)
    view = viewer.planes.main
    viewer.actions_["tool_ellipse"].trigger()
    start = view_to_viewport(view, 9 * 0.8, 12 * 0.5)
    end = view_to_viewport(view, 22 * 0.8, 27 * 0.5)
    drag(qtbot, view, start, end)
    assert len(view.measurements.items) == 1
    stats = view.measurements.items[0].result
    assert stats.pixels > 50 and stats.mean == 40.0 and stats.sd == 0.0


def test_overlay_text_toggles(viewer, qtbot):
    show_ct(viewer)
    view = viewer.planes.main
    assert any("TEST, Alice" in line for line in view.painter.content.top_left)
    corner = view.graphics.rect().adjusted(0, 0, -view.graphics.width() // 2, -view.graphics.height() // 2)
    with_text = view.graphics.grab(corner).toImage()
    viewer.actions_["overlay_text"].trigger()
    assert not viewer.state.show_overlay_text and not view.painter.text_visible
    qtbot.wait(20)
    without_text = view.graphics.grab(corner).toImage()
    assert with_text != without_text
    viewer.actions_["overlay_text"].trigger()
    assert view.painter.text_visible


def test_heatmap_and_mask_overlays_show_in_all_planes(viewer, context, qtbot):
    volume = show_ct(viewer, first_index=10)
    viewer.actions_["three_plane"].trigger()
    heat = np.zeros(volume.shape, dtype=np.float32)
    heat[8:12, 20:40, 10:30] = 1.0
    context.scan_overlay_changed.emit("saliency", {"data": heat, "kind": "heatmap", "colormap": "inferno",
                                                   "opacity": 0.5, "label": "Saliency"})
    for view in viewer.planes.views:
        item = view.overlay_images.items["saliency"]
        assert item.isVisible() and item.opacity() == 0.5
        assert item.image.shape == view.plane_image.data.shape[:2]
        assert "Overlay: Saliency" in view.painter.content.top_right
    axial_overlay = viewer.planes.main.overlay_images.items["saliency"].image
    np.testing.assert_array_equal(axial_overlay, heat[10])
    mask = np.zeros(volume.shape, dtype=bool)
    mask[:, 10:20, 10:20] = True
    context.scan_overlay_changed.emit("brain", {"data": mask, "kind": "mask", "label": "Brain mask"})
    outline = viewer.planes.main.overlay_images.items["brain"].image
    assert (outline[..., 3] > 0).sum() == 4 * 10 - 4  # the square's border pixels only
    context.scan_overlay_changed.emit("saliency", None)
    assert "saliency" not in viewer.planes.main.overlay_images.items
    context.scan_overlay_changed.emit("wrong", {"data": np.zeros((2, 2, 2)), "kind": "heatmap"})
    assert "wrong" not in viewer.state.overlays and "does not fit" in viewer.banner.text.text()


def test_tag_browser_shows_the_header_and_searches(viewer, qtbot, tmp_path):
    ds = pydicom.Dataset()
    ds.PatientName, ds.PatientID, ds.Modality = "TEST^Alice", "P001", "CT"
    ds.SeriesDescription = "Head"
    ds.SOPInstanceUID = pydicom.uid.generate_uid()
    ds.SOPClassUID = pydicom.uid.CTImageStorage
    seq_item = pydicom.Dataset()
    seq_item.CodeMeaning = "Brain"
    ds.AnatomicRegionSequence = pydicom.Sequence([seq_item])
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = pydicom.uid.ExplicitVRLittleEndian
    ds.file_meta.MediaStorageSOPClassUID = ds.SOPClassUID
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    path = tmp_path / "slice.dcm"
    ds.save_as(path, enforce_file_format=True)
    volume = ct_volume()
    viewer.show_volume(volume, series_for(CT_SHAPE[0], paths=[str(path)] * CT_SHAPE[0]), first_index=10)
    viewer.actions_["tag_browser"].trigger()
    browser = viewer._tag_browser
    qtbot.waitUntil(lambda: browser.tree.topLevelItemCount() > 3, timeout=5000)
    assert "(0010,0010)" in browser.visible_tags()
    browser.search.setText("patient's name")
    assert browser.visible_tags() == ["(0010,0010)"]
    browser.search.setText("brain")  # found inside a sequence: its parent stays visible
    assert browser.visible_tags() == ["(0008,2218)"]
    browser.close()


def test_progressive_loading_shows_the_first_slice_before_the_rest(viewer, qtbot):
    voxels = ct_voxels((200, 32, 24))
    viewer.load_function = progressive_loader(voxels, delay_s=0.004, slope=1.0, intercept=-1024.0,
                                              modality="CT", units="HU")
    job = viewer.open_series(series_for(200), first_index=120)
    qtbot.waitUntil(lambda: viewer.state.volume is not None, timeout=5000)
    volume = viewer.state.volume
    assert job.is_running and volume.loaded.sum() < 200
    view = viewer.planes.main
    assert view.index == 120
    np.testing.assert_array_equal(view.displayed_image(), shown(viewer, voxels[120]))
    # the GUI answers while loading: scroll to a slice that may not be read yet
    view.scroll(+1)
    assert view.index == 121
    with qtbot.waitSignal(job.finished, timeout=10000):
        pass
    assert volume.loaded.all()
    np.testing.assert_array_equal(view.displayed_image(), shown(viewer, voxels[121]))


def test_cancel_stops_loading_and_says_so(viewer, qtbot):
    viewer.load_function = progressive_loader(ct_voxels((300, 16, 16)), delay_s=0.01)
    job = viewer.open_series(series_for(300))
    qtbot.waitUntil(lambda: viewer.state.volume is not None, timeout=5000)
    with qtbot.waitSignal(job.cancelled, timeout=5000):
        viewer.cancel_loading()
    assert not viewer.state.volume.loaded.all()
    assert "Loading was cancelled" in viewer.banner.text.text()


def test_a_thousand_slice_series_keeps_the_gui_answering(viewer, qtbot):
    viewer.load_function = progressive_loader(ct_voxels((1000, 24, 24)), delay_s=0.0005)
    job = viewer.open_series(series_for(1000))
    qtbot.waitUntil(lambda: viewer.state.volume is not None, timeout=5000)
    answered_while_loading = 0
    while job.is_running:
        viewer.planes.main.scroll(+1)
        qtbot.wait(20)
        answered_while_loading += job.is_running
    assert answered_while_loading >= 3


def test_failed_load_shows_the_reason(viewer, qtbot):
    def broken(series, task, first_index=None):
        raise DicomError("The pixel data of this series is truncated: copy the study again.")

    viewer.load_function = broken
    job = viewer.open_series(series_for(5))
    with qtbot.waitSignal(job.failed, timeout=5000):
        pass
    assert viewer.banner.isVisible() and "truncated" in viewer.banner.text.text()


def test_series_warnings_are_shown(viewer):
    viewer.show_volume(ct_volume(), series_for(CT_SHAPE[0], warnings=["Gantry tilt of 12 degrees."]))
    assert viewer.banner.isVisible() and "Gantry tilt" in viewer.banner.text.text()


def test_cine_plays_and_stops(viewer, qtbot):
    show_ct(viewer, first_index=0)
    viewer.fps_spin.setValue(50.0)
    viewer.actions_["cine"].trigger()
    assert viewer.cine_timer.isActive()
    qtbot.waitUntil(lambda: viewer.planes.main.index >= 3, timeout=3000)
    viewer.actions_["cine"].trigger()
    assert not viewer.cine_timer.isActive()
    assert viewer.context.settings.viewer.cine_fps == 50.0


def test_single_key_shortcuts_work_while_the_viewer_has_focus(viewer, qtbot):
    show_ct(viewer)
    view = viewer.planes.main
    view.graphics.setFocus()
    qtbot.waitUntil(view.graphics.hasFocus, timeout=2000)
    qtbot.keyClick(view.graphics, Qt.Key.Key_I)
    assert viewer.state.invert
    qtbot.keyClick(view.graphics, Qt.Key.Key_D)
    assert view.measurements.tool == "distance"
    qtbot.keyClick(view.graphics, Qt.Key.Key_Escape)
    assert view.measurements.tool == "pan"
    qtbot.keyClick(view.graphics, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert viewer.planes.three_plane


def test_monochrome1_starts_inverted_and_rgb_shows_colour(viewer):
    volume = ct_volume()
    volume.photometric = "MONOCHROME1"
    viewer.show_volume(volume, series_for(CT_SHAPE[0]))
    assert viewer.state.invert and grey_at(viewer.planes.main, *AIR) == 255
    rgb = np.zeros((4, 8, 6, 3), dtype=np.uint8)
    rgb[..., 0] = 200  # red everywhere
    rgb[2, 3, 4] = (10, 20, 30)
    colour = Volume(voxels=rgb, spacing_mm=(1.0, 1.0, 1.0), modality="US", photometric="RGB")
    viewer.show_volume(colour, series_for(4, modality="US"), first_index=2)
    view = viewer.planes.main
    np.testing.assert_array_equal(view.displayed_image(), rgb[2])
    assert view.reading_at(QPointF(4.5, 3.5)).startswith("RGB 10 20 30")
    viewer.state.drag_window(40, -20)  # window/level has no effect on colour images
    np.testing.assert_array_equal(view.displayed_image(), rgb[2])


def test_a_sagittal_acquisition_is_shown_sagittal_in_the_main_view(viewer):
    # slices along x (patient left), rows towards inferior, columns towards posterior
    direction = np.column_stack([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    volume = Volume(voxels=ct_voxels(), spacing_mm=CT_SPACING, direction=direction, slope=1.0,
                    intercept=-1024.0, modality="MR")
    viewer.show_volume(volume, series_for(CT_SHAPE[0], modality="MR"), first_index=7)
    main = viewer.planes.main
    assert main.plane == "sagittal" and main.index == 7
    assert main.plane_image.labels == {"top": "S", "bottom": "I", "left": "A", "right": "P"}
    assert [v.plane for v in viewer.planes.views] == ["sagittal", "axial", "coronal"]


def test_scroll_benchmark_reports_viewer_and_baseline(qtbot):
    from stethoscan.gui.viewer.scroll_benchmark import measure

    result = measure(slices=12, size=64)
    assert set(result) == {"viewer_redraw_ms_median", "viewer_redraw_ms_p95", "bare_imageitem_ms_median",
                           "bare_imageitem_ms_p95", "ratio_viewer_to_bare"}
    assert all(value > 0 for value in result.values())


def test_a_single_image_has_no_three_plane_view_or_cine(viewer):
    single = Volume(voxels=ct_voxels((1, 64, 48)), spacing_mm=CT_SPACING, intercept=-1024.0, modality="CT")
    viewer.show_volume(single, series_for(1))
    assert not viewer.actions_["three_plane"].isEnabled() and not viewer.actions_["cine"].isEnabled()
    viewer.show_volume(ct_volume(), series_for(CT_SHAPE[0]))
    assert viewer.actions_["three_plane"].isEnabled() and viewer.actions_["cine"].isEnabled()


def test_viewer_settings_are_used_and_remembered(context, qtbot):
    context.settings.viewer.show_overlay = False
    context.settings.viewer.interpolate = False
    widget = ScanViewer(context)
    qtbot.addWidget(widget)
    assert not widget.actions_["overlay_text"].isChecked() and not widget.state.show_overlay_text
    assert not widget.planes.main.painter.text_visible and not widget.planes.main.image_item.smooth
    show_ct(widget)
    widget.actions_["overlay_text"].trigger()
    assert context.settings.viewer.show_overlay and widget.planes.main.painter.text_visible


def show_series(viewer, uid: str, first_index: int = 10, voxels: np.ndarray | None = None) -> Volume:
    """Show a freshly built CT volume as series ``uid`` (as opening it from the browser would)."""
    volume = ct_volume()
    volume.series_uid = uid
    if voxels is not None:
        volume.voxels = voxels
    viewer.show_volume(volume, series_for(CT_SHAPE[0], uid=uid), ScanLabels(modality="CT"), first_index)
    return volume


def drawn(viewer) -> dict[str, list]:
    """(kind, slice, value text) of the measurements on each plane's view."""
    return {view.plane: [(m.kind, m.slice_index, m.label.textItem.toPlainText()) for m in view.measurements.items]
            for view in viewer.planes.views}


SERIES_A, SERIES_B = "1.2.840.99.1", "1.2.840.99.2"


def test_measurements_stay_with_their_series_until_deleted(viewer, qtbot):
    show_series(viewer, SERIES_A, first_index=10)
    viewer.actions_["three_plane"].trigger()
    main, coronal = viewer.planes.main, viewer.planes.view_for("coronal")
    viewer.actions_["tool_distance"].trigger()
    drag(qtbot, main, view_to_viewport(main, 5.0, 4.0), view_to_viewport(main, 29.0, 22.0))
    distance = main.measurements.items[0]
    rect = main.measurements.add("rectangle", QPointF(16 * 0.8, 10 * 0.5), QPointF(32 * 0.8, 20 * 0.5))
    main.scroll(+2)  # an ellipse on slice 12, not shown when the series opens again on slice 10
    ellipse = main.measurements.add("ellipse", QPointF(30 * 0.8, 40 * 0.5), QPointF(40 * 0.8, 50 * 0.5))
    side = coronal.measurements.add("rectangle", QPointF(0.0, 0.0), QPointF(20 * 0.8, 10 * 2.5))
    before = drawn(viewer)
    values = (distance.result, rect.result, ellipse.result, side.result)
    assert values[0] == pytest.approx(30.0, abs=0.6) and rect.result.mean == pytest.approx(-480.0)
    assert ellipse.result.mean == 1000.0 and ellipse.slice_index == 12

    other = ct_voxels()
    other[:] = 1024 + 77  # every voxel 77 HU: a value series A never has
    show_series(viewer, SERIES_B, voxels=other)
    assert drawn(viewer) == {"axial": [], "coronal": [], "sagittal": []}
    assert viewer.state.kept_measurements.for_series(SERIES_B) == []
    b_rect = main.measurements.add("rectangle", QPointF(0, 0), QPointF(8.0, 8.0))
    assert b_rect.result.mean == 77.0

    show_series(viewer, SERIES_A, first_index=10)
    assert drawn(viewer) == before  # same slices and the same values in mm and HU
    restored = main.measurements.items
    assert restored[0].result == pytest.approx(values[0]) and restored[1].result == values[1]
    assert restored[2].result == values[2] and coronal.measurements.items[0].result == values[3]
    assert [m.item.isVisible() for m in restored] == [True, True, False]  # slice 10 is shown
    main.scroll(+2)
    assert [m.item.isVisible() for m in restored] == [False, False, True]
    assert all("77" not in m.label.textItem.toPlainText() for m in restored)

    restored[1].item.removeClicked()  # the ROI's own "Remove ROI" menu entry
    qtbot.waitUntil(lambda: len(main.measurements.items) == 2, timeout=2000)
    show_series(viewer, SERIES_B, voxels=other)
    assert [m.kind for m in main.measurements.items] == ["rectangle"]  # B's own, value 77 HU
    assert main.measurements.items[0].result.mean == 77.0
    show_series(viewer, SERIES_A, first_index=10)
    assert [(m.kind, m.slice_index) for m in main.measurements.items] == [("distance", 10), ("ellipse", 12)]
    assert len(coronal.measurements.items) == 1
    viewer.actions_["clear_measurements"].trigger()  # clearing forgets them for the series too
    show_series(viewer, SERIES_B)
    show_series(viewer, SERIES_A)
    assert drawn(viewer) == {"axial": [], "coronal": [], "sagittal": []}
    assert viewer.state.kept_measurements.series_uids() == [SERIES_B]


def test_measurements_come_back_when_a_series_loads_again(viewer, qtbot):
    viewer.load_function = progressive_loader(ct_voxels(), delay_s=0.005, slope=1.0, intercept=-1024.0,
                                              modality="CT", units="HU")
    with qtbot.waitSignal(viewer.open_series(series_for(CT_SHAPE[0], uid=SERIES_A), first_index=10).finished,
                          timeout=5000):
        pass
    main = viewer.planes.main
    main.set_index(12)
    bone = main.measurements.add("rectangle", QPointF(30 * 0.8, 40 * 0.5), QPointF(40 * 0.8, 50 * 0.5))
    assert bone.result.mean == 1000.0 and bone.result.pixels == 100
    with qtbot.waitSignal(viewer.open_series(series_for(CT_SHAPE[0], uid=SERIES_B)).finished, timeout=5000):
        pass
    assert main.measurements.items == []
    job = viewer.open_series(series_for(CT_SHAPE[0], uid=SERIES_A), first_index=3)
    qtbot.waitUntil(lambda: main.measurements.items != [], timeout=5000)
    with qtbot.waitSignal(job.finished, timeout=5000):
        pass
    (again,) = main.measurements.items
    assert again.slice_index == 12 and not again.item.isVisible()
    assert again.result == bone.result  # computed on slice 12 once read, not on slice 3 or on zeros
    main.set_index(12)
    assert again.item.isVisible() and again.result == bone.result

"""What the four corners of a slice view say (patient, study, series, slice, window, zoom)."""

from __future__ import annotations

from typing import Any

from stethoscan.gui.viewer.overlay_text import OverlayContent


def format_dicom_date(value: str) -> str:
    """``YYYYMMDD`` -> ``YYYY-MM-DD`` (other text unchanged)."""
    value = (value or "").strip()
    if len(value) == 8 and value.isdigit():
        return f"{value[:4]}-{value[4:6]}-{value[6:]}"
    return value


def format_person_name(value: str) -> str:
    """DICOM ``FAMILY^GIVEN`` -> ``FAMILY, Given`` for display."""
    parts = [p for p in (value or "").split("^") if p]
    if len(parts) >= 2:
        return f"{parts[0].upper()}, {parts[1].title()}"
    return value or ""


def corner_content(view: Any, mm_per_pixel: float | None) -> OverlayContent:
    """Corner text of ``view`` (a SliceView) with its current slice, window and zoom."""
    state, geometry, image = view.state, view.geometry_, view.plane_image
    labels = state.labels
    volume = state.volume
    content = OverlayContent(labels=dict(image.labels), mm_per_pixel=mm_per_pixel)
    plane_name = geometry.display_name
    window = f"W {state.width:.0f}  L {state.center:.0f}" if not volume.is_rgb else "RGB"
    slice_line = f"{plane_name}  {view.index + 1} / {geometry.count}"
    location = f"Loc {image.location_mm:.1f} mm"
    if view.compact:
        content.top_left = [slice_line, location]
        content.bottom_right = [window]
    else:
        birth = format_dicom_date(labels.birth_date)
        sex_birth = f"{labels.sex}  {birth}".strip() if birth else (f"Sex {labels.sex}" if labels.sex else "")
        content.top_left = [x for x in (format_person_name(labels.patient_name),
                                        f"ID {labels.patient_id}" if labels.patient_id else "",
                                        sex_birth) if x]
        series = labels.series_description
        if labels.series_number is not None:
            series = f"Se {labels.series_number}  {series}".strip()
        content.top_right = [x for x in (labels.study_description, format_dicom_date(labels.study_date),
                                         series, labels.modality) if x]
        thickness = f"Spacing {geometry.volume.spacing_mm[0]:.2f} mm" if geometry.fixed == 0 else ""
        content.bottom_left = [x for x in (slice_line, location, thickness) if x]
        zoom = f"Zoom {view.zoom_factor():.2f}×"
        preset = state.preset if state.preset not in ("Default", "Custom") else ""
        content.bottom_right = [x for x in (preset, window, zoom) if x]
    if view.cursor_text:
        content.bottom_left.append(view.cursor_text)
    if not image.loaded:
        content.notice = "Loading slice…"
    for name, spec in state.overlays.items():
        content.top_right.append(f"Overlay: {spec.get('label', name)}")
    return content

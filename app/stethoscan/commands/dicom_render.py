"""``stethoscan dicom render``: write one slice or reformatted plane of a series as a PNG.

The PNG is what the viewer shows: the series' default window (from the files, else automatic)
or the one asked for, radiological orientation, square pixels from the voxel spacing, and the
orientation letters on the edges with the plane, position and window in a corner.
"""

from __future__ import annotations

import argparse

PLANES = ("axial", "coronal", "sagittal")


def register(dicom_subparsers: argparse._SubParsersAction) -> None:
    parser = dicom_subparsers.add_parser(
        "render",
        help="write a slice or an axial/coronal/sagittal plane of a series as a PNG",
        description="Render one plane of a series exactly as the viewer shows it.",
    )
    parser.add_argument("path", metavar="PATH", help="DICOM file, folder, DICOMDIR or zip")
    parser.add_argument("--series", metavar="UID",
                        help="series instance UID (as listed by `stethoscan dicom scan`); "
                             "may be left out when PATH holds a single series")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--slice", type=int, metavar="N",
                       help="acquired slice N (0-based, in spatial order); default: the middle")
    where.add_argument("--plane", choices=PLANES, help="reformatted plane to show")
    parser.add_argument("--index", type=int, metavar="N",
                        help="with --plane: plane N (0-based) along its axis; default: middle")
    window = parser.add_mutually_exclusive_group()
    window.add_argument("--window", metavar="PRESET",
                        help="CT preset (brain, subdural, stroke, lung, mediastinum, bone, "
                             "abdomen, liver, ...), 'auto' (robust percentiles) or 'dicom' "
                             "(the window in the files; the default)")
    window.add_argument("--wl", nargs=2, type=float, metavar=("CENTER", "WIDTH"),
                        help="window center and width in physical units (HU for CT)")
    parser.add_argument("--invert", action="store_true", help="invert the grey scale")
    parser.add_argument("--no-overlay", action="store_true",
                        help="leave out the orientation letters and the caption")
    parser.add_argument("--out", required=True, metavar="FILE.png", help="PNG file to write")
    parser.set_defaults(func=run_render)


def run_render(args: argparse.Namespace) -> int:
    """Index PATH, load the series, render the chosen plane and write the PNG."""
    from stethoscan.commands.output_paths import check_output_file
    from stethoscan.core.errors import ValidationError
    from stethoscan.core.task import ConsoleTask
    from stethoscan.imaging import slice_rendering as sr
    from stethoscan.imaging.dicom_index import index_paths
    from stethoscan.imaging.volume_loader import load_volume

    if args.index is not None and args.plane is None:
        raise ValidationError("--index needs --plane (use --slice N for an acquired slice).")
    check_output_file(args.out, example="slice.png")
    series = _choose_series(index_paths([args.path], ConsoleTask("Indexing")), args.series)
    first = args.slice if args.slice is not None else None
    volume = load_volume(series, ConsoleTask("Loading"), first_index=first)
    plane_name = args.plane or sr.acquired_plane(volume)
    count = sr.plane_count(volume, plane_name)
    index = args.slice if args.plane is None else args.index
    index = count // 2 if index is None else index
    if not 0 <= index < count:
        raise ValidationError(f"The {plane_name} plane number must be between 0 and "
                              f"{count - 1}; {index} was given.")
    plane = sr.extract_plane(volume, plane_name, index)
    center, width = _window(args, volume)
    invert = (volume.photometric == "MONOCHROME1") != bool(args.invert)
    rgb = sr.render_volume_plane(volume, plane, (center, width), invert=invert)
    rgb = sr.to_square_pixels(rgb, plane.pixel_spacing_mm)
    caption = f"{plane_name.capitalize()} {index + 1}/{count}\nW {width:g} L {center:g}"
    sr.write_png(rgb, args.out, None if args.no_overlay else plane.labels,
                 "" if args.no_overlay else caption)
    print(f"Wrote {args.out}: {plane_name} plane {index + 1} of {count} (index {index}) "
          f"({rgb.shape[1]}x{rgb.shape[0]} px), window W {width:g} L {center:g}")
    for warning in volume.warnings:
        print(f"warning: {warning}")
    return 0


def _choose_series(index, uid: str | None):
    from stethoscan.core.errors import DicomError, ValidationError

    all_series = index.all_series()
    if not all_series:
        reasons = "; ".join(f"{s.path}: {s.reason}" for s in index.skipped[:3])
        raise DicomError(f"No DICOM series was found. {reasons}".strip())
    if uid is None:
        if len(all_series) == 1:
            return all_series[0]
        raise ValidationError("This path holds several series; choose one with --series UID: "
                              + ", ".join(s.series_uid for s in all_series[:10]))
    series = index.find_series(uid)
    if series is None:
        raise ValidationError(f"No series with UID {uid} was found. Available: "
                              + ", ".join(s.series_uid for s in all_series[:10]))
    return series


def _window(args: argparse.Namespace, volume) -> tuple[float, float]:
    """(center, width) in physical units from --wl, --window or the volume's default."""
    from stethoscan.core.errors import ValidationError
    from stethoscan.imaging.windowing import auto_window, find_preset

    if args.wl is not None:
        center, width = args.wl
        if width < 1:
            raise ValidationError("The window width must be at least 1.")
        return float(center), float(width)
    if volume.is_rgb:
        return 127.5, 256.0
    choice = (args.window or "dicom").strip().lower()
    if choice == "dicom" and volume.default_window is not None:
        return volume.default_window
    if choice in ("dicom", "auto"):
        return auto_window(volume.voxels[:: max(1, volume.shape[0] // 32)], volume.slope,
                           volume.intercept)
    modality = (volume.modality or "CT").upper()
    preset = find_preset(choice, modality)
    if modality != "CT":  # HU windows mean nothing on MR and other images
        print(f"warning: '{choice}' is a CT window (HU), but this series is {modality}: its values are "
              "not HU. Leave --window out for its own or an automatic window, or give --wl.")
    return float(preset.center), float(preset.width)

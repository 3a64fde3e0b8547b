"""``stethoscan dicom scan|render|prune-cache``: index and render DICOM scans without a window.

``scan`` lists patients, studies and series (with geometry and warnings) and the files it
skipped, each with its reason. It exits 0 when at least one series was found, even if some files
were bad, and 1 with a sentence when nothing could be loaded (every file skipped, or none).
"""

from __future__ import annotations

import argparse
import sys

from stethoscan.commands import dicom_render

_SCAN_EPILOG = """\
The JSON output (format stethoscan-scan-index/1) holds "patients" -> "studies" -> "series"
(series_uid, modality, number_of_instances, rows, columns, number_of_slices,
voxel_spacing_mm [slice, row, column], orientation, plane, warnings, split_reason),
"skipped" files with their "reason", and "notes". Series that mix orientations, sizes, echoes
or time points are split; the parts get the original UID plus ".1", ".2", ...
"""


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("dicom", help="index and render DICOM scans without a window")
    dicom_sub = parser.add_subparsers(dest="dicom", metavar="ACTION")
    scan = dicom_sub.add_parser(
        "scan",
        help="list the patients, studies and series in files, folders, DICOMDIRs or zips",
        description="Index DICOM headers (no pixel data is read) and list what was found.",
        epilog=_SCAN_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    scan.add_argument("paths", nargs="+", metavar="PATH",
                      help="DICOM file, folder (searched recursively), DICOMDIR or zip archive")
    scan.add_argument("--json", action="store_true", help="print JSON instead of a listing")
    scan.set_defaults(func=run_scan)
    dicom_render.register(dicom_sub)
    _register_prune_cache(dicom_sub)
    parser.set_defaults(func=lambda args: _print_help(parser))


def _register_prune_cache(dicom_sub: argparse._SubParsersAction) -> None:
    prune = dicom_sub.add_parser(
        "prune-cache",
        help="remove old copies of opened zip archives from the archive cache",
        description="Remove extracted zip archives not opened for DAYS days, then the least "
                    "recently opened ones until the cache is at most GB gigabytes.",
    )
    prune.add_argument("--days", type=float, default=30.0, metavar="DAYS",
                       help="remove archives not opened for this many days (default 30)")
    prune.add_argument("--max-gb", type=float, default=5.0, metavar="GB",
                       help="size cap of the cache in GB (1024^3 bytes; default 5)")
    prune.add_argument("--json", action="store_true", help="print JSON instead of a sentence")
    prune.set_defaults(func=run_prune_cache)


def run_prune_cache(args: argparse.Namespace) -> int:
    """Prune the archive cache and print counts and sizes (MB); 1 if some could not be removed."""
    import json

    from stethoscan.imaging.archive_cache import prune_archive_cache

    if args.days < 0 or args.max_gb < 0:
        print("--days and --max-gb must be zero or more.", file=sys.stderr)
        return 2
    report = prune_archive_cache(max_age_days=args.days, max_bytes=int(args.max_gb * 1024**3))
    data = report.to_dict()
    if args.json:
        print(json.dumps(data, indent=2))
    else:
        print(f"Removed {data['removed']} extracted archives ({data['removed_mb']:.1f} MB); "
              f"kept {data['kept']} ({data['kept_mb']:.1f} MB).")
        if report.failed:
            print(f"{report.failed} could not be removed (check the folder's permissions).")
    return 1 if report.failed else 0


def _print_help(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run_scan(args: argparse.Namespace) -> int:
    """Index ``args.paths`` and print the result; 0 if a series was found, else 1."""
    import json

    from stethoscan.core.task import ConsoleTask
    from stethoscan.imaging.dicom_index import index_paths
    from stethoscan.imaging.scan_index_json import scan_index_to_dict, scan_index_to_text

    index = index_paths(args.paths, ConsoleTask("Indexing"))
    if args.json:
        text = json.dumps(scan_index_to_dict(index), indent=2, ensure_ascii=False)
    else:
        text = scan_index_to_text(index)
    print(text, flush=True)  # a closed pipe (`| head`) is handled quietly by stethoscan.cli.main
    if not index.all_series():
        where = ", ".join(str(p) for p in args.paths)
        print(f"No DICOM image could be loaded from {where}"
              + (f": all {len(index.skipped)} file(s) were skipped (reasons above). "
                 if index.skipped else ": it holds no files. ")
              + "Check that you chose the folder, DICOMDIR or zip with the scans.",
              file=sys.stderr)  # fmt: skip
        return 1
    return 0

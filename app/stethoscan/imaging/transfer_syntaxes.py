"""Which transfer syntaxes this installation decodes, and what to do when one is missing.

A missing decoder is reported with its name and a remedy a clinician or IT can act on: the
package to install, or the dcmtk/GDCM tool that converts the study.
"""

from __future__ import annotations

import shutil

from stethoscan.core.errors import UnsupportedTransferSyntaxError

JPEG_8BIT = ("1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51")
_JPEG_LOSSLESS = ("1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70")
_JPEG_LS = ("1.2.840.10008.1.2.4.80", "1.2.840.10008.1.2.4.81")
JPEG_2000 = ("1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.91",
              "1.2.840.10008.1.2.4.92", "1.2.840.10008.1.2.4.93")
_HTJ2K = ("1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202", "1.2.840.10008.1.2.4.203")
_JPIP = ("1.2.840.10008.1.2.4.94", "1.2.840.10008.1.2.4.95",
         "1.2.840.10008.1.2.4.204", "1.2.840.10008.1.2.4.205")
_JPEG_XL = {"1.2.840.10008.1.2.4.110": "JPEG XL Lossless",
            "1.2.840.10008.1.2.4.111": "JPEG XL JPEG Recompression",
            "1.2.840.10008.1.2.4.112": "JPEG XL"}
RLE = "1.2.840.10008.1.2.5"

# dcmtk tools that decompress a file to Explicit VR Little Endian
DCMTK_DECODERS = {
    **{uid: "dcmdjpeg" for uid in (*JPEG_8BIT, *_JPEG_LOSSLESS)},
    **{uid: "dcmdjpls" for uid in _JPEG_LS},
    RLE: "dcmdrle",
}


def syntax_label(uid: str) -> str:
    """'JPEG-LS Lossless Image Compression (1.2.840.10008.1.2.4.80)'."""
    from pydicom.uid import UID

    name = _JPEG_XL.get(uid) or UID(uid).name
    if name == uid:
        return f"unknown transfer syntax {uid}"
    return f"{name} ({uid})"


def _decoding_remedy(uid: str, twelve_bit: bool = False) -> str:
    """What would decode ``uid``: a package to install and a tool to convert the study."""
    uncompressed = "ask the sender to export the study uncompressed (Explicit VR Little Endian)"
    if twelve_bit:
        return ("Install dcmtk (apt-get install dcmtk), whose dcmdjpeg decodes 12-bit JPEG, or "
                "convert the study with dcmdjpeg")
    if uid in JPEG_8BIT:
        return "Install python-gdcm or Pillow (pip), or convert the study with dcmdjpeg (dcmtk)"
    if uid in _JPEG_LOSSLESS:
        return "Install python-gdcm (pip), or convert the study with dcmdjpeg (dcmtk)"
    if uid in _JPEG_LS:
        return "Install python-gdcm or pyjpegls (pip), or convert the study with dcmdjpls (dcmtk)"
    if uid in JPEG_2000:
        return ("Install pylibjpeg-openjpeg or python-gdcm (pip), or convert the study with "
                "gdcmconv --raw (GDCM)")
    if uid in _HTJ2K:
        return "Install pylibjpeg-openjpeg 2.0 or newer (pip), or " + uncompressed
    if uid == RLE:
        return "Install pylibjpeg-rle (pip), or convert the study with dcmdrle (dcmtk)"
    if uid in _JPEG_XL:
        return "No JPEG XL decoder is available for pydicom yet; " + uncompressed
    if uid in _JPIP:
        return ("The pixel data is not in the file but on a JPIP image server, and Stethoscan "
                "works offline; " + uncompressed)
    if uid.startswith(("1.2.840.10008.1.2.4.10", "1.2.840.10008.1.2.7.")):
        return ("This is a video (MPEG/HEVC) object: play it in a DICOM video player or extract "
                "its frames with ffmpeg")
    return uncompressed


def unsupported_message(uid: str, twelve_bit: bool = False) -> str:
    what = f"12-bit {syntax_label(uid)}" if twelve_bit else syntax_label(uid)
    return (f"The pixel data uses {what}, which no installed decoder can read. "
            f"{_decoding_remedy(uid, twelve_bit)}.")


def check_transfer_syntax(uid: str) -> None:
    """Raise :class:`UnsupportedTransferSyntaxError` when nothing installed decodes ``uid``."""
    from pydicom.pixels import get_decoder

    try:
        decoder = get_decoder(uid)
    except NotImplementedError as exc:
        raise UnsupportedTransferSyntaxError(unsupported_message(str(uid))) from exc
    dcmtk = DCMTK_DECODERS.get(str(uid))
    if not decoder.is_available and not (dcmtk and shutil.which(dcmtk)):
        raise UnsupportedTransferSyntaxError(unsupported_message(str(uid)))

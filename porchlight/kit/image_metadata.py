"""Photos lose what their camera wrote about them before they are stored: where they were
taken (GPS), the device, its owner's name, the time, a thumbnail of the uncropped picture.
A customer who opens a report's photos gets the picture, nothing else.

The pixels are not decoded or encoded again: the metadata segments are cut out of the file
as it is, so nothing is lost in quality, no decoder runs on a file anyone may upload, and
a 10 MB photo costs a copy. One thing the camera wrote is kept: a JPEG's orientation, or
portrait photos would show on their side; it goes back as a minimal EXIF block holding
that one tag.

- JPEG: every APPn segment but JFIF (APP0) and Adobe's colour transform (APP14), and
  comments, are dropped; the ICC colour profile (APP2 ``ICC_PROFILE``) is kept.
- PNG: the text chunks (``tEXt``, ``zTXt``, ``iTXt``), ``eXIf`` and ``tIME`` are dropped.
- WebP: the ``EXIF`` and ``XMP `` chunks are dropped and the header's flags say so.

A file whose structure does not parse is refused rather than stored as it came.
"""

from __future__ import annotations

import struct

ORIENTATION_TAG = 0x0112


class UnreadableImage(ValueError):
    """The file's structure is not what its type says."""


def strip(content_type: str, content: bytes) -> bytes:
    if content_type == "image/jpeg":
        return _jpeg(content)
    if content_type == "image/png":
        return _png(content)
    if content_type == "image/webp":
        return _webp(content)
    return content


# -- JPEG ---------------------------------------------------------------------------------
_KEEP_APP = {0xE0, 0xEE}  # JFIF, Adobe (colour transform)
_STANDALONE = {0x01, *range(0xD0, 0xD8)}  # TEM, RSTn: markers without a length


def _jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise UnreadableImage("not a JPEG")
    out, i, orientation = [b"\xff\xd8"], 2, None
    while True:
        if i + 4 > len(data) or data[i] != 0xFF:
            raise UnreadableImage("a JPEG segment is cut short")
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            out.append(data[i:i + 2])
            i += 2
            continue
        if marker == 0xD9:  # end of image before any scan
            out.append(data[i:])
            break
        (length,) = struct.unpack(">H", data[i + 2:i + 4])
        end = i + 2 + length
        if length < 2 or end > len(data):
            raise UnreadableImage("a JPEG segment is cut short")
        body = data[i + 4:end]
        if marker == 0xDA:  # start of scan: the rest is picture data
            out.append(data[i:])
            break
        if marker == 0xE1 and body.startswith(b"Exif\0\0"):
            orientation = orientation or _exif_orientation(body[6:])
        elif marker == 0xFE or (0xE0 <= marker <= 0xEF and marker not in _KEEP_APP
                                and not (marker == 0xE2 and body.startswith(b"ICC_PROFILE\0"))):
            pass  # comments and metadata: dropped
        else:
            out.append(data[i:end])
        i = end
    if orientation and orientation != 1:
        # Right after SOI, or after JFIF when the file starts with it (JFIF must come first).
        at = 2 if len(out) > 1 and out[1].startswith(b"\xff\xe0") else 1
        out.insert(at, _orientation_segment(orientation))
    return b"".join(out)


def _exif_orientation(tiff: bytes) -> int | None:
    """The Orientation tag (1-8) of IFD0, or None."""
    if len(tiff) < 8 or tiff[:2] not in (b"II", b"MM"):
        return None
    order = "<" if tiff[:2] == b"II" else ">"
    (ifd,) = struct.unpack(order + "I", tiff[4:8])
    if ifd + 2 > len(tiff):
        return None
    (count,) = struct.unpack(order + "H", tiff[ifd:ifd + 2])
    for n in range(min(count, 512)):
        at = ifd + 2 + 12 * n
        if at + 12 > len(tiff):
            return None
        tag, kind = struct.unpack(order + "HH", tiff[at:at + 4])
        if tag == ORIENTATION_TAG and kind == 3:  # SHORT
            (value,) = struct.unpack(order + "H", tiff[at + 8:at + 10])
            return value if 1 <= value <= 8 else None
    return None


def _orientation_segment(orientation: int) -> bytes:
    """An APP1 EXIF segment holding the orientation and nothing else."""
    tiff = (b"II*\0" + struct.pack("<I", 8) + struct.pack("<H", 1)
            + struct.pack("<HHIHH", ORIENTATION_TAG, 3, 1, orientation, 0) + struct.pack("<I", 0))
    body = b"Exif\0\0" + tiff
    return b"\xff\xe1" + struct.pack(">H", len(body) + 2) + body


# -- PNG ----------------------------------------------------------------------------------
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_DROP = {b"tEXt", b"zTXt", b"iTXt", b"eXIf", b"tIME"}


def _png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise UnreadableImage("not a PNG")
    out, i = [_PNG_SIGNATURE], len(_PNG_SIGNATURE)
    while i < len(data):
        if i + 12 > len(data):
            raise UnreadableImage("a PNG chunk is cut short")
        (length,) = struct.unpack(">I", data[i:i + 4])
        kind = data[i + 4:i + 8]
        end = i + 12 + length
        if end > len(data):
            raise UnreadableImage("a PNG chunk is cut short")
        if kind not in _PNG_DROP:
            out.append(data[i:end])
        i = end
        if kind == b"IEND":
            break
    return b"".join(out)


# -- WebP ---------------------------------------------------------------------------------
_WEBP_DROP = {b"EXIF", b"XMP "}
_VP8X_EXIF, _VP8X_XMP = 0x08, 0x04


def _webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise UnreadableImage("not a WebP")
    chunks, i = [], 12
    while i < len(data):
        if i + 8 > len(data):
            raise UnreadableImage("a WebP chunk is cut short")
        kind = data[i:i + 4]
        (length,) = struct.unpack("<I", data[i + 4:i + 8])
        end = i + 8 + length + (length & 1)  # chunks are padded to an even length
        if i + 8 + length > len(data):
            raise UnreadableImage("a WebP chunk is cut short")
        if kind == b"VP8X" and length >= 1:
            flags = data[i + 8] & ~(_VP8X_EXIF | _VP8X_XMP)
            chunks.append(data[i:i + 8] + bytes([flags]) + data[i + 9:end])
        elif kind not in _WEBP_DROP:
            chunks.append(data[i:end])
        i = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body

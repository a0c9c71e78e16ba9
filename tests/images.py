"""Real, tiny photos for tests, made with Pillow: the shapes a phone's camera writes,
metadata included, so the tests of its removal read what a customer's upload would hold."""

from __future__ import annotations

import io

from PIL import Image, PngImagePlugin

GPS_IFD, MAKE, ORIENTATION, GPS_LATITUDE_REF = 0x8825, 0x010F, 0x0112, 1
CAMERA = b"PorchlightTestCam"


def picture(size: tuple[int, int] = (8, 6)) -> Image.Image:
    image = Image.new("RGB", size)
    image.putdata([((x * 30) % 256, (y * 40) % 256, 90) for y in range(size[1]) for x in range(size[0])])
    return image


def camera_exif(orientation: int | None = 6) -> Image.Exif:
    exif = Image.Exif()
    exif[MAKE] = CAMERA.decode()
    if orientation is not None:
        exif[ORIENTATION] = orientation
    exif.get_ifd(GPS_IFD)[GPS_LATITUDE_REF] = "N"
    return exif


def jpeg(orientation: int | None = 6, comment: bytes | None = b"shot at 12 Elm Street",
         icc: bytes | None = None, metadata: bool = True) -> bytes:
    out = io.BytesIO()
    extra: dict = {"quality": 95}
    if metadata:
        extra["exif"] = camera_exif(orientation).tobytes()
        if comment:
            extra["comment"] = comment
    if icc:
        extra["icc_profile"] = icc
    picture().save(out, "JPEG", **extra)
    return out.getvalue()


def png(metadata: bool = True) -> bytes:
    out = io.BytesIO()
    info = PngImagePlugin.PngInfo()
    if metadata:
        info.add_text("Author", "Frances Marsh")
        info.add_itxt("Location", "12 Elm Street")
    picture().save(out, "PNG", pnginfo=info, exif=camera_exif().tobytes() if metadata else b"")
    return out.getvalue()


def webp(metadata: bool = True) -> bytes:
    out = io.BytesIO()
    xmp = b"<x:xmpmeta>12 Elm Street</x:xmpmeta>"
    extra = {"exif": camera_exif().tobytes(), "xmp": xmp} if metadata else {}
    picture().save(out, "WEBP", lossless=True, **extra)
    return out.getvalue()


def pixels(content: bytes) -> bytes:
    with Image.open(io.BytesIO(content)) as image:
        return image.convert("RGB").tobytes()

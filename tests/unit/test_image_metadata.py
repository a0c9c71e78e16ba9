"""A photo is stored without what its camera wrote about it (issue 18, L-2): no GPS, no
device, no names or comments — with the very same pixels, and a JPEG's orientation kept so
a portrait photo still shows upright."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from porchlight.contracts.errors import InvalidInput
from porchlight.kit import image_metadata as metadata
from services.documents.files.rules import read_upload
from tests import images

KINDS = {"image/jpeg": images.jpeg, "image/png": images.png, "image/webp": images.webp}
TELLING = (images.CAMERA, b"Elm Street", b"Frances")


def exif_of(content: bytes) -> dict[int, object]:
    with Image.open(io.BytesIO(content)) as image:
        exif = image.getexif()
        return {**dict(exif), **{("gps", k): v for k, v in exif.get_ifd(images.GPS_IFD).items()}}


@pytest.mark.parametrize("content_type", KINDS)
def test_a_photo_loses_its_metadata_and_keeps_its_pixels(content_type):
    raw = KINDS[content_type]()
    assert any(word in raw for word in TELLING)  # the camera did write it
    clean = metadata.strip(content_type, raw)
    assert not any(word in clean for word in TELLING)
    assert not any(key == ("gps", images.GPS_LATITUDE_REF) for key in exif_of(clean))
    assert images.pixels(clean) == images.pixels(raw)
    assert metadata.strip(content_type, clean) == clean  # nothing left to take


@pytest.mark.parametrize("orientation", [3, 6, 8])
def test_a_jpegs_orientation_is_all_that_is_kept_of_its_exif(orientation):
    clean = metadata.strip("image/jpeg", images.jpeg(orientation=orientation))
    assert exif_of(clean) == {images.ORIENTATION: orientation}


def test_an_upright_jpeg_keeps_no_exif_at_all():
    clean = metadata.strip("image/jpeg", images.jpeg(orientation=1))
    assert exif_of(clean) == {} and b"Exif\0\0" not in clean


def test_a_jpegs_colour_profile_is_kept():
    profile = b"\0\0\0\x30" + b"icc-profile-for-the-test" + b"\0" * 20
    clean = metadata.strip("image/jpeg", images.jpeg(icc=profile))
    with Image.open(io.BytesIO(clean)) as image:
        assert image.info.get("icc_profile") == profile


def test_a_webps_header_no_longer_announces_what_was_taken():
    clean = metadata.strip("image/webp", images.webp())
    flags = clean[clean.index(b"VP8X") + 8] if b"VP8X" in clean else 0
    assert not flags & 0x08 and not flags & 0x04
    assert int.from_bytes(clean[4:8], "little") == len(clean) - 8


@pytest.mark.parametrize("content_type", KINDS)
def test_a_file_cut_short_is_refused_not_stored_as_it_came(content_type):
    raw = KINDS[content_type]()
    cut = raw[:40]
    with pytest.raises(InvalidInput) as refused:
        read_upload({"filename": "x", "content_type": content_type,
                     "content_b64": base64.b64encode(cut).decode()})
    assert refused.value.fields == {"file": f"The file is not a readable {content_type} file."}


def test_an_upload_is_stored_clean():
    raw = images.jpeg()
    _, _, stored = read_upload({"filename": "valve.jpg", "content_type": "image/jpeg",
                                "content_b64": base64.b64encode(raw).decode()})
    assert images.CAMERA not in stored and images.pixels(stored) == images.pixels(raw)

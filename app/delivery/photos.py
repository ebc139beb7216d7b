"""Photos of a project's updates: images only, size-limited, re-encoded, kept in one place.

``prepare`` refuses anything Pillow cannot read as a JPEG, PNG or WebP image, files over
``settings.delivery.max_photo_mb`` and images of more than ``MAX_PIXELS`` pixels (a decompression
bomb), then re-encodes the picture as a JPEG no larger than ``max_photo_px`` on its longer side,
turned upright by its EXIF orientation. Re-encoding drops every other piece of metadata (GPS
position, camera, EXIF, XMP, ICC comments), and whatever a crafted file carried besides pixels.
``PhotoStore`` is the one small storage interface: files named by a random token under
``settings.delivery.photo_dir`` (a shared volume when several workers serve), served by
``routes/delivery.py`` with safe headers.
"""

from __future__ import annotations

import io
import re
import secrets
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from app.delivery import DeliveryError
from app.i18n import gettext as _
from app.settings import Settings

FORMATS = {"JPEG", "PNG", "WEBP"}
MAX_PIXELS = 40_000_000
NAME = re.compile(r"^[A-Za-z0-9_-]{20,60}\.jpg$")


@dataclass(frozen=True)
class Upload:
    filename: str
    data: bytes
    alt_text: str


@dataclass(frozen=True)
class Prepared:
    data: bytes
    width: int
    height: int
    alt_text: str


def prepare(upload: Upload, *, settings: Settings) -> Prepared:
    """The upload re-encoded as a clean JPEG, or a DeliveryError saying what is wrong with it."""
    limit = settings.delivery.max_photo_mb * 1024 * 1024
    name = upload.filename or _("the photo")
    if not upload.data:
        raise DeliveryError(_("{name} is empty.").format(name=name), field="photo")
    if len(upload.data) > limit:
        raise DeliveryError(_("{name} is larger than {mb} MB; send a smaller photo.").format(
            name=name, mb=settings.delivery.max_photo_mb), field="photo")
    alt = upload.alt_text.strip()
    if not alt:
        raise DeliveryError(_("Describe what {name} shows, for residents who cannot see it.").format(name=name),
                            field="alt_text")
    try:
        with Image.open(io.BytesIO(upload.data)) as image:
            if image.format not in FORMATS:
                raise DeliveryError(_("{name} is not a JPEG, PNG or WebP photo.").format(name=name), field="photo")
            if image.width * image.height > MAX_PIXELS:
                raise DeliveryError(_("{name} has too many pixels; send a smaller photo.").format(name=name),
                                    field="photo")
            image.load()
            upright = ImageOps.exif_transpose(image)
            picture = upright.convert("RGB")
    except (UnidentifiedImageError, OSError, ValueError, Image.DecompressionBombError) as error:
        if isinstance(error, DeliveryError):
            raise
        raise DeliveryError(_("{name} is not a JPEG, PNG or WebP photo.").format(name=name), field="photo") from None
    side = settings.delivery.max_photo_px
    picture.thumbnail((side, side))
    out = io.BytesIO()
    picture.save(out, format="JPEG", quality=85, optimize=True)  # no exif=, no icc_profile=: metadata dropped
    return Prepared(out.getvalue(), picture.width, picture.height, alt[:300])


class PhotoStore:
    """Photos on disk under one directory, by random names."""

    def __init__(self, settings: Settings) -> None:
        self.root = Path(settings.delivery.photo_dir)

    def save(self, data: bytes) -> str:
        self.root.mkdir(parents=True, exist_ok=True)
        name = secrets.token_urlsafe(24) + ".jpg"
        temporary = self.root / (name + ".part")
        temporary.write_bytes(data)
        temporary.replace(self.root / name)
        return name

    def path(self, name: str) -> Path | None:
        """The file of a stored photo, or None for a name the store never gives out."""
        if not NAME.match(name):
            return None
        path = self.root / name
        return path if path.is_file() else None

    def delete(self, name: str) -> None:
        path = self.path(name)
        if path is not None:
            path.unlink(missing_ok=True)

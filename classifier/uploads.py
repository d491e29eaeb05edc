"""Uploaded files, validated: the one pipeline of the upload form and the API.

`validate_upload` turns one uploaded file into an `Upload` or refuses it with a ValidationError whose
code says why (empty, too_big, not_image, unsupported_format) and whose message names the file;
`validate_each` does it for every file of an upload and answers each, in upload order, with an
`Upload` or a `Refused`: the files that are images are classified, the others are answered in place.
The upload as a whole is refused only for no file, too many files, or more pixels than one request
may decode (`check_pixel_budget`, from the files' headers before any is decoded). The form's pages
show the messages, the API answers them as JSON; `http_status` gives both the same status.

Memory stays bounded per request: each picture is decoded on its own (a JPEG at a reduced size),
turned at once into what is kept of it (the 28x28 model input and a small thumbnail) and released
before the next is decoded. Nothing here touches Cassandra (recorder.py does).
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image

from mlmodel.preprocessing import (
    InvalidImage,
    ModelInput,
    decoded_pixels,
    open_image,
    to_model_input,
    working_copy,
)

ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP", "BMP": "BMP"}
ACCEPTED_LIST = ", ".join(ACCEPTED_FORMATS.values())
MAX_FILENAME_LENGTH = 200
MAX_EXTENSION_LENGTH = 16  # a longer "extension" is just the end of a long name
THUMBNAIL_SIZE = (160, 160)

MESSAGES = {
    "required": "Choose at least one image to classify.",
    "too_many": "Upload at most %(limit)d images at a time.",
    "empty": "%(name)s is empty.",
    "too_big": "%(name)s is %(size)s; the limit is %(limit)s.",
    "not_image": "%(name)s: %(reason)s",
    "unsupported_format": "%(name)s is a %(format)s image; upload " + ACCEPTED_LIST + ".",
    "too_many_pixels": "These images hold %(pixels)s million pixels once decoded; one upload may "
    "hold at most %(limit)s million (send fewer or smaller images at a time).",
}


@dataclass(frozen=True)
class Upload:
    """An upload that passed validation: its name as sent, its SHA-256 and format, and what is kept
    of the picture (the model input, with what preprocessing decided, and a thumbnail)."""

    filename: str
    sha256: str
    image_format: str
    model_input: ModelInput
    thumbnail_jpeg: bytes

    @classmethod
    def of(cls, filename: str, data: bytes) -> Upload:
        """Decode and preprocess the picture; the decoded image is released on return. Raises
        InvalidImage for a file that is no usable image (the caller checks the format)."""
        image = open_image(data)
        upright = working_copy(image)
        return cls(
            filename=filename,
            sha256=hashlib.sha256(data).hexdigest(),
            image_format=image.format,
            model_input=to_model_input(image, upright),
            thumbnail_jpeg=thumbnail_jpeg(upright),
        )


def thumbnail_jpeg(upright: Image.Image) -> bytes:
    """A small JPEG of the picture, made from the upright, reduced copy preprocessing works on
    (`working_copy`)."""
    thumbnail = upright.convert("RGBA") if upright.mode in {"P", "LA", "PA"} else upright
    if thumbnail.mode == "RGBA":  # JPEG has no alpha: show transparent parts as white
        background = Image.new("RGB", thumbnail.size, "white")
        background.paste(thumbnail, mask=thumbnail.getchannel("A"))
        thumbnail = background
    thumbnail = thumbnail.convert("RGB")  # a new image, even from RGB: thumbnail() works in place
    # A gap of 1.5 first averages whole blocks (2x2 for a phone photo decoded at 1/8), then filters:
    # half the cost of 2.0 on such a photo (0.6 ms against 1.2), alike at 160 pixels.
    thumbnail.thumbnail(THUMBNAIL_SIZE, Image.Resampling.BILINEAR, reducing_gap=1.5)
    buffer = io.BytesIO()
    thumbnail.save(buffer, format="JPEG", quality=85)
    return buffer.getvalue()


def clean_filename(name: str) -> str:
    """The file's own name without any directory part or control characters, at most
    MAX_FILENAME_LENGTH characters long (a longer one loses the end of its stem, not its extension)."""
    name = unicodedata.normalize("NFC", name)
    name = PureWindowsPath(PurePosixPath(name).name).name
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip()
    if len(name) > MAX_FILENAME_LENGTH:  # shorten the stem, so that the name keeps its extension
        extension = PurePosixPath(name).suffix
        if len(extension) > MAX_EXTENSION_LENGTH:
            extension = ""
        name = name.removesuffix(extension)[: MAX_FILENAME_LENGTH - len(extension)].rstrip() + extension
    return name or "upload"


@dataclass(frozen=True)
class Refused:
    """A file of an upload that is not classified: its cleaned name, and why (code and message)."""

    filename: str
    code: str
    message: str


def refused(code: str, **params: object) -> ValidationError:
    return ValidationError(MESSAGES[code], code=code, params=params)


def validate_upload(file: UploadedFile) -> Upload:
    """The file as an Upload, or a ValidationError (code and message) saying why it is refused."""
    name = clean_filename(file.name or "")
    if not file.size:
        raise refused("empty", name=name)
    if file.size > settings.UPLOAD_MAX_BYTES:
        limit = filesizeformat(settings.UPLOAD_MAX_BYTES)
        raise refused("too_big", name=name, size=filesizeformat(file.size), limit=limit)
    data = _read(file)
    try:
        with Image.open(io.BytesIO(data)) as probe:  # the header only: refuse other formats undecoded
            image_format = probe.format
    except Exception:
        image_format = None  # open_image says what is wrong with it
    if image_format is not None and image_format not in ACCEPTED_FORMATS:
        raise refused("unsupported_format", name=name, format=image_format)
    try:
        return Upload.of(file.name or "", data)
    except InvalidImage as error:
        raise refused("not_image", name=name, reason=error) from None


def check_pixel_budget(files: Iterable[UploadedFile]) -> None:
    """Refuse (too_many_pixels) an upload whose pictures would decode to more than
    UPLOAD_MAX_REQUEST_PIXELS pixels in all, counted from their headers before any is decoded.

    A small file can decode to a huge flat picture (a 6,300 x 6,300 PNG of one colour is 100 KB):
    the byte limits do not bound the work or the memory of a request, this does. Files the other
    checks refuse (empty, too big, unreadable) count nothing here.
    """
    total = 0
    for file in files:
        if file and 0 < (file.size or 0) <= settings.UPLOAD_MAX_BYTES:
            total += decoded_pixels(_read(file))
    limit = settings.UPLOAD_MAX_REQUEST_PIXELS
    if total > limit:
        raise refused("too_many_pixels", pixels=_millions(total), limit=_millions(limit))


def validate_each(files: Iterable[UploadedFile]) -> list[Upload | Refused]:
    """Every file of one upload, validated, in upload order: an `Upload`, or a `Refused` saying why.

    A ValidationError only when the upload as a whole cannot be taken: no file, too many, or too many
    pixels."""
    files = [file for file in files if file]
    if not files:
        raise refused("required")
    if len(files) > settings.UPLOAD_MAX_FILES:
        raise refused("too_many", limit=settings.UPLOAD_MAX_FILES)
    check_pixel_budget(files)
    outcomes: list[Upload | Refused] = []
    for file in files:
        try:
            outcomes.append(validate_upload(file))
        except ValidationError as error:
            outcomes.append(Refused(clean_filename(file.name or ""), error.code, error.messages[0]))
    return outcomes


def _read(file: UploadedFile) -> bytes:
    """The whole file, from its start (it may be read again)."""
    file.seek(0)
    data = file.read()
    file.seek(0)
    return data


def _millions(pixels: int) -> str:
    return f"{pixels / 1e6:,.1f}".removesuffix(".0")


def http_status(codes: Iterable[str]) -> int:
    """The HTTP status that tells a program what went wrong: 413 too large, 415 not an image, else 400."""
    codes = set(codes)
    if codes & {"too_big", "too_many_pixels"}:
        return 413
    if codes & {"not_image", "unsupported_format"}:
        return 415
    return 400

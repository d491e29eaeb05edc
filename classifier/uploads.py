"""Uploaded files, validated: the one pipeline of the upload form and the API.

`validate_upload` turns one uploaded file into an `Upload` (its cleaned name, bytes and decoded
image) or refuses it with a ValidationError whose code says why (empty, too_big, not_image,
unsupported_format) and whose message names the file; `validate_each` does it for every file of an
upload, with the limit on the number of files, and answers each file in upload order with an
`Upload` or a `Refused`: the files that are images are classified, the others are answered in place.
The form's pages show the messages, the API answers them as JSON; `http_status` gives both the same
status. Nothing here writes to Cassandra (recorder.py does).
"""

from __future__ import annotations

import hashlib
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cached_property
from pathlib import PurePosixPath, PureWindowsPath

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat
from PIL import Image

from mlmodel.preprocessing import InvalidImage, open_image

ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP", "BMP": "BMP"}
ACCEPTED_LIST = ", ".join(ACCEPTED_FORMATS.values())
MAX_FILENAME_LENGTH = 200
MAX_EXTENSION_LENGTH = 16  # a longer "extension" is just the end of a long name

MESSAGES = {
    "required": "Choose at least one image to classify.",
    "too_many": "Upload at most %(limit)d images at a time.",
    "empty": "%(name)s is empty.",
    "too_big": "%(name)s is %(size)s; the limit is %(limit)s.",
    "not_image": "%(name)s: %(reason)s",
    "unsupported_format": "%(name)s is a %(format)s image; upload " + ACCEPTED_LIST + ".",
}


@dataclass(frozen=True)
class Upload:
    """An upload that passed validation: its name as sent, raw bytes and decoded first frame."""

    filename: str
    data: bytes
    image: Image.Image
    image_format: str

    @cached_property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


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
    data = file.read()
    try:
        image = open_image(data)
    except InvalidImage as error:
        raise refused("not_image", name=name, reason=error) from None
    if image.format not in ACCEPTED_FORMATS:
        raise refused("unsupported_format", name=name, format=image.format)
    return Upload(filename=file.name or "", data=data, image=image, image_format=image.format)


def validate_each(files: Iterable[UploadedFile]) -> list[Upload | Refused]:
    """Every file of one upload, validated, in upload order: an `Upload`, or a `Refused` saying why.

    A ValidationError only when the upload as a whole cannot be taken: no file, or too many."""
    files = [file for file in files if file]
    if not files:
        raise refused("required")
    if len(files) > settings.UPLOAD_MAX_FILES:
        raise refused("too_many", limit=settings.UPLOAD_MAX_FILES)
    outcomes: list[Upload | Refused] = []
    for file in files:
        try:
            outcomes.append(validate_upload(file))
        except ValidationError as error:
            outcomes.append(Refused(clean_filename(file.name or ""), error.code, error.messages[0]))
    return outcomes


def http_status(codes: Iterable[str]) -> int:
    """The HTTP status that tells a program what went wrong: 413 too large, 415 not an image, else 400."""
    codes = set(codes)
    if "too_big" in codes:
        return 413
    if codes & {"not_image", "unsupported_format"}:
        return 415
    return 400

from django import forms
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.template.defaultfilters import filesizeformat

from mlmodel.preprocessing import InvalidImage, open_image

from .recorder import Upload, clean_filename

ACCEPTED_FORMATS = {"PNG": "PNG", "JPEG": "JPEG", "GIF": "GIF", "WEBP": "WebP", "BMP": "BMP"}
ACCEPTED_LIST = ", ".join(ACCEPTED_FORMATS.values())


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """One or several image files; cleans to a list of validated `Upload`s."""

    widget = MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp,image/bmp"})
    default_error_messages = {
        "required": "Choose at least one image to classify.",
        "too_many": "Upload at most %(limit)d images at a time.",
        "empty": "%(name)s is empty.",
        "too_big": "%(name)s is %(size)s; the limit is %(limit)s.",
        "not_image": "%(name)s: %(reason)s",
        "unsupported_format": "%(name)s is a %(format)s image; upload " + ACCEPTED_LIST + ".",
    }

    def clean(self, data, initial=None) -> list[Upload]:
        files = [file for file in (data if isinstance(data, (list, tuple)) else [data]) if file]
        if not files:
            raise ValidationError(self.error_messages["required"], code="required")
        if len(files) > settings.UPLOAD_MAX_FILES:
            raise ValidationError(
                self.error_messages["too_many"], code="too_many", params={"limit": settings.UPLOAD_MAX_FILES}
            )
        errors, uploads = [], []
        for file in files:
            try:
                uploads.append(self.upload_from(file))
            except ValidationError as error:
                errors.append(error)
        if errors:
            raise ValidationError(errors)
        return uploads

    def upload_from(self, file: UploadedFile) -> Upload:
        name = clean_filename(file.name or "")
        if not file.size:
            raise ValidationError(self.error_messages["empty"], code="empty", params={"name": name})
        if file.size > settings.UPLOAD_MAX_BYTES:
            raise ValidationError(
                self.error_messages["too_big"],
                code="too_big",
                params={
                    "name": name,
                    "size": filesizeformat(file.size),
                    "limit": filesizeformat(settings.UPLOAD_MAX_BYTES),
                },
            )
        data = file.read()
        try:
            image = open_image(data)
        except InvalidImage as error:
            raise ValidationError(
                self.error_messages["not_image"], code="not_image", params={"name": name, "reason": error}
            ) from None
        if image.format not in ACCEPTED_FORMATS:
            raise ValidationError(
                self.error_messages["unsupported_format"],
                code="unsupported_format",
                params={"name": name, "format": image.format},
            )
        return Upload(filename=file.name or "", data=data, image=image, image_format=image.format)


class UploadForm(forms.Form):
    images = MultipleImageField(label="Photos of clothing")

    def http_status(self) -> int:
        """The HTTP status that tells a program what went wrong: 413 too large, 415 not an image."""
        codes = {error.code for error in self.errors.as_data().get("images", [])}
        if "too_big" in codes:
            return 413
        if codes & {"not_image", "unsupported_format"}:
            return 415
        return 400

"""The upload form: one or several images, validated by uploads.py like the API's."""

from django import forms

from .uploads import Upload, http_status, validate_uploads


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """One or several image files; cleans to a list of validated `Upload`s."""

    widget = MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp,image/bmp"})

    def clean(self, data, initial=None) -> list[Upload]:
        return validate_uploads(data if isinstance(data, (list, tuple)) else [data])


class UploadForm(forms.Form):
    images = MultipleImageField(label="Photos of clothing")

    def http_status(self) -> int:
        """The HTTP status that tells a program what went wrong: 413 too large, 415 not an image."""
        return http_status(error.code for error in self.errors.as_data().get("images", []))

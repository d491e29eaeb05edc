"""The upload form: one or several images, validated by uploads.py like the API's."""

from django import forms
from django.core.exceptions import ValidationError

from .uploads import Refused, Upload, http_status, validate_each


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleImageField(forms.FileField):
    """One or several image files; cleans to each file's `Upload` or `Refused`, in upload order.

    The field is valid when at least one file is an image: those are classified and the others
    answered in place on the results page. When none is, the field's errors name every file."""

    widget = MultipleFileInput(attrs={"accept": "image/png,image/jpeg,image/gif,image/webp,image/bmp"})

    def clean(self, data, initial=None) -> list[Upload | Refused]:
        outcomes = validate_each(data if isinstance(data, (list, tuple)) else [data])
        if not any(isinstance(outcome, Upload) for outcome in outcomes):
            raise ValidationError(
                [ValidationError(refused.message, code=refused.code) for refused in outcomes]
            )
        return outcomes


class UploadForm(forms.Form):
    images = MultipleImageField(label="Choose photos")
    # No `required` in the page: a photo taken with the camera input (a second field of the same
    # name) would not satisfy the browser's check of this one. The server asks for a file instead.
    use_required_attribute = False

    def http_status(self) -> int:
        """The HTTP status that tells a program what went wrong: 413 too large, 415 not an image."""
        return http_status(error.code for error in self.errors.as_data().get("images", []))

    def error_messages(self) -> list[str]:
        return [message for messages in self.errors.values() for message in messages]

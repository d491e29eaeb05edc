"""How the admin's prediction page shows what is stored: labelled, formatted values."""

from __future__ import annotations

from django import forms

from mlmodel.classes import CLASS_NAMES

from ..models import Prediction


def stored_fields(prediction: Prediction) -> list[tuple[str, object]]:
    """The stored columns of a prediction as (label, value), the ones read together shown together."""
    return [
        ("Id", prediction.id),
        ("Created (UTC)", prediction.created_at.strftime("%Y-%m-%d %H:%M:%S.%f")),
        ("Partition", f"day {prediction.day}, hour {prediction.hour}"),
        ("Filename", prediction.filename),
        ("Label", f"{prediction.label} (class {prediction.label_index})"),
        ("Confidence", f"{prediction.confidence:.4f}" + (" (uncertain)" if prediction.uncertain else "")),
        ("Model version", prediction.model_version),
        ("SHA-256 of the upload", prediction.sha256),
        ("Upload", f"{prediction.image_format}, {prediction.image_width}×{prediction.image_height} pixels"),
        (
            "Repeat",
            "yes: the same file was classified before by this model; this upload took that classification"
            if prediction.repeat
            else "no",
        ),
    ]


def preprocessing_fields(prediction: Prediction) -> list[tuple[str, str]]:
    """What preprocessing decided (mlmodel.preprocessing.ModelInput.decisions), one line each."""

    def shown(value: object) -> str:
        if isinstance(value, list):
            return " × ".join(map(str, value)) if len(value) == 2 else ", ".join(map(str, value))
        return "—" if value is None else str(value)

    return [
        (name.replace("_", " ").capitalize(), shown(value))
        for name, value in prediction.preprocessing_decisions.items()
    ]


class CorrectionForm(forms.Form):
    corrected_label = forms.ChoiceField(
        label="Corrected label",
        required=False,
        choices=[("", "— no correction —"), *((name, name) for name in CLASS_NAMES)],
        help_text="The true class of this upload, if the prediction is wrong (or to confirm it).",
    )

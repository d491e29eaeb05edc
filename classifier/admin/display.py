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
        ("None of the ten classes?", _none_of_the_ten(prediction)),
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

    decisions = dict(prediction.preprocessing_decisions)
    segmentation = decisions.pop("segmentation", None)
    fields = [(name.replace("_", " ").capitalize(), shown(value)) for name, value in decisions.items()]
    if (
        segmentation is not None
    ):  # a phone photo: the garment was cut out (its outline is drawn on the upload)
        left, top, right, bottom = segmentation["box"]
        fields += [
            ("Garment share of the photo", f"{segmentation['mask_share']:.0%}"),
            ("Garment box", f"{left:.0%}–{right:.0%} across, {top:.0%}–{bottom:.0%} down"),
            ("Pair split", "yes: the larger of two items kept" if segmentation["pair_split"] else "no"),
            # Not in the decisions of uploads made before 2026-12-03.
            ("Second look", _second_look(segmentation.get("second_look"))),
        ]
    return fields


def _second_look(taken: bool | None) -> str:
    if taken is None:
        return "—"
    return "yes: wider than tall, also seen squeezed to a square, the two answers averaged" if taken else "no"


class CorrectionForm(forms.Form):
    corrected_label = forms.ChoiceField(
        label="Corrected label",
        required=False,
        choices=[("", "— no correction —"), *((name, name) for name in CLASS_NAMES)],
        help_text="The true class of this upload, if the prediction is wrong (or to confirm it).",
    )


def _none_of_the_ten(prediction: Prediction) -> str:
    if prediction.energy is None:
        return "— (not scored: the model predates the score)"
    verdict = "probably none of them" if prediction.none_of_the_ten else "no"
    scores = f"energy score {prediction.energy:.3f}"
    if prediction.familiarity is not None:
        scores += f", photo familiarity {prediction.familiarity:.2f}"
    return f"{verdict} ({scores})"

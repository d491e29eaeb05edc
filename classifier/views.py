"""The site's pages: the upload form with the visitor's own recent uploads, a prediction's result,
the results of one upload of several photos, and the pictures they show."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from . import batches, explanations, heatmaps, reads, recent, store, suggestions
from .answers import answer_for
from .charts import probability_chart_png
from .errors import error_body, error_response, wants_json
from .forms import UploadForm
from .models import Prediction
from .recorder import Recorded, classify_and_record
from .suggestions import SuggestionForm
from .uploads import Upload


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    """The upload form. A POST answers with the page of its results: one photo's result page, or the
    results page of several; the upload card's script asks for that address as JSON (Accept)."""
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            outcomes = form.cleaned_data["images"]
            recorded = iter(classify_and_record([item for item in outcomes if isinstance(item, Upload)]))
            results = [next(recorded) if isinstance(item, Upload) else item for item in outcomes]
            recent.remember(request, [item.prediction for item in results if isinstance(item, Recorded)])
            if len(results) == 1:
                target = results[0].prediction.get_absolute_url()
            else:
                target = batches.results_url(results)
            return JsonResponse({"url": target}) if wants_json(request) else redirect(target)
        status = form.http_status()
        if wants_json(request):
            [first, *_] = form.errors.as_data()["images"]
            body = error_body(first.code, " ".join(form.error_messages()))
            return JsonResponse({**body, "messages": form.error_messages()}, status=status)
    else:
        form = UploadForm()
    context = {
        "form": form,
        "recent_uploads": recent.recent_uploads(request),
        "max_bytes": settings.UPLOAD_MAX_BYTES,
        "max_files": settings.UPLOAD_MAX_FILES,
    }
    return render(request, "classifier/index.html", context, status=status)


@require_GET
def result(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    return _result_page(request, reads.prediction_or_404(prediction_id), SuggestionForm())


def _result_page(
    request: HttpRequest, prediction: Prediction, form: SuggestionForm, status: int = 200
) -> HttpResponse:
    context = {"prediction": prediction, "answer": answer_for(prediction), "suggestion_form": form}
    try:  # the first view of a result computes its heat map (explanations.py)
        context["why"] = heatmaps.why_sentence(explanations.explanation(prediction), prediction.label)
    except explanations.Unexplainable as problem:
        context["why_missing"] = str(problem)
    return render(request, "classifier/result.html", context, status=status)


@require_POST
def suggest(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    """A visitor's "Wrong answer?": stored as a suggestion for staff, at most SUGGESTIONS_PER_HOUR."""
    prediction = reads.prediction_or_404(prediction_id)
    form = SuggestionForm(request.POST)
    if not form.is_valid():
        return _result_page(request, prediction, form, status=400)
    if not suggestions.take_one(suggestions.visitor_key(request)):
        form.add_error(None, suggestions.limit_message())
        return _result_page(request, prediction, form, status=429)
    label = form.cleaned_data["label"]
    if not store.suggest(prediction.id, label, timezone.now()):
        raise Http404("No prediction with this id.")  # deleted meanwhile
    messages.success(request, f"Thank you: your answer, {label}, is stored for our staff to check.")
    return redirect(prediction)


@require_GET
def batch(request: HttpRequest, token: str) -> HttpResponse:
    items = [
        {"item": item, "answer": answer_for(item.prediction) if item.prediction else None}
        for item in batches.items_or_404(token)
    ]
    classified = sum(1 for entry in items if entry["item"].prediction)
    context = {"items": items, "classified": classified, "refused": len(items) - classified}
    return render(request, "classifier/batch.html", context)


# A prediction never changes once written, so its pictures can be cached for good, but only by the
# browser that asked: they are one visitor's upload, never for a shared cache to keep and hand out.
immutable = cache_control(private=True, max_age=365 * 24 * 3600, immutable=True)


@require_GET
@immutable
def chart(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    prediction = reads.prediction_or_404(prediction_id)
    return HttpResponse(probability_chart_png(prediction.probabilities), content_type="image/png")


@require_GET
@immutable
def model_input(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    images = reads.images_or_404(prediction_id)
    return HttpResponse(images.model_input_png, content_type="image/png")


@require_GET
@immutable
def second_look(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    images = reads.images_or_404(prediction_id)
    if images.second_look_png is None:
        raise Http404("This prediction took no second look.")
    return HttpResponse(images.second_look_png, content_type="image/png")


@require_GET
@immutable
def thumbnail(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    images = reads.images_or_404(prediction_id)
    return HttpResponse(images.thumbnail_jpeg, content_type="image/jpeg")


def _heat_map(request: HttpRequest, prediction_id: uuid.UUID, draw) -> HttpResponse:
    """A picture of the prediction's heat map, drawn by `draw(prediction, explanation, images)`."""
    prediction = reads.prediction_or_404(prediction_id)
    try:
        made = explanations.explanation(prediction)
    except explanations.Unexplainable as problem:
        return error_response(request, 404, "not_explainable", str(problem))
    images = reads.images_or_404(prediction_id)
    return HttpResponse(draw(prediction, made, images), content_type="image/png")


@require_GET
@immutable
def why_input(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    """The heat map over the 28x28 input."""
    return _heat_map(
        request,
        prediction_id,
        lambda prediction, made, images: heatmaps.over_input(images.model_input_png, made),
    )


@require_GET
@immutable
def why_photo(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    """The heat map over the garment in the photo's thumbnail."""
    return _heat_map(
        request,
        prediction_id,
        lambda prediction, made, images: heatmaps.over_photo(
            images.thumbnail_jpeg, made, prediction.preprocessing_decisions
        ),
    )

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from . import metrics, timeline
from .charts import probability_chart_png
from .forms import UploadForm
from .models import Prediction
from .recorder import classify_and_record


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            recorded = classify_and_record(form.cleaned_data["images"])
            metrics.count(recorded)
            if len(recorded) == 1:
                return redirect(recorded[0].prediction)
            messages.success(request, f"Classified {len(recorded)} images.")
            return redirect("classifier:index")
        status = form.http_status()
    else:
        form = UploadForm()
    context = {"form": form, "latest": timeline.latest(), "max_bytes": settings.UPLOAD_MAX_BYTES}
    return render(request, "classifier/index.html", context, status=status)


def get_prediction(prediction_id: uuid.UUID) -> Prediction:
    prediction = timeline.find(prediction_id)
    if prediction is None:
        raise Http404("No prediction with this id.")
    return prediction


@require_GET
def result(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    return render(request, "classifier/result.html", {"prediction": get_prediction(prediction_id)})


# A prediction never changes once written, so its pictures can be cached for good.
immutable = cache_control(public=True, max_age=365 * 24 * 3600, immutable=True)


@require_GET
@immutable
def chart(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    prediction = get_prediction(prediction_id)
    return HttpResponse(probability_chart_png(prediction.probabilities), content_type="image/png")


def stored_image(prediction_id: uuid.UUID, field: str, content_type: str) -> HttpResponse:
    images = timeline.images_of(prediction_id)
    if images is None:
        raise Http404("No prediction with this id.")
    return HttpResponse(getattr(images, field), content_type=content_type)


@require_GET
@immutable
def model_input(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    return stored_image(prediction_id, "model_input_png", "image/png")


@require_GET
@immutable
def thumbnail(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    return stored_image(prediction_id, "thumbnail_jpeg", "image/jpeg")

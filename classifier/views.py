"""The site's pages: the upload form with the visitor's own recent uploads, and a prediction's result."""

import uuid

from django.conf import settings
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods

from . import reads, recent
from .charts import probability_chart_png
from .forms import UploadForm
from .recorder import classify_and_record


@require_http_methods(["GET", "POST"])
def index(request: HttpRequest) -> HttpResponse:
    status = 200
    if request.method == "POST":
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            recorded = classify_and_record(form.cleaned_data["images"])
            recent.remember(request, [item.prediction for item in recorded])
            if len(recorded) == 1:
                return redirect(recorded[0].prediction)
            messages.success(request, f"Classified {len(recorded)} images.")
            return redirect("classifier:index")
        status = form.http_status()
    else:
        form = UploadForm()
    context = {
        "form": form,
        "recent_uploads": recent.recent_uploads(request),
        "max_bytes": settings.UPLOAD_MAX_BYTES,
    }
    return render(request, "classifier/index.html", context, status=status)


@require_GET
def result(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    return render(request, "classifier/result.html", {"prediction": reads.prediction_or_404(prediction_id)})


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
def thumbnail(request: HttpRequest, prediction_id: uuid.UUID) -> HttpResponse:
    images = reads.images_or_404(prediction_id)
    return HttpResponse(images.thumbnail_jpeg, content_type="image/jpeg")

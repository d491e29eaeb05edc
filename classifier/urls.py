from django.urls import path

from . import health, metrics, views

app_name = "classifier"

urlpatterns = [
    path("", views.index, name="index"),
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("metrics", metrics.export, name="metrics"),
    path("predictions/<uuid:prediction_id>/", views.result, name="result"),
    path("predictions/<uuid:prediction_id>/suggest", views.suggest, name="suggest"),
    path("results/<str:token>/", views.batch, name="batch"),
    path("predictions/<uuid:prediction_id>/chart.png", views.chart, name="chart"),
    path("predictions/<uuid:prediction_id>/input.png", views.model_input, name="model_input"),
    path("predictions/<uuid:prediction_id>/second-look.png", views.second_look, name="second_look"),
    path("predictions/<uuid:prediction_id>/thumbnail.jpg", views.thumbnail, name="thumbnail"),
    path("predictions/<uuid:prediction_id>/why-input.png", views.why_input, name="why_input"),
    path("predictions/<uuid:prediction_id>/why-photo.png", views.why_photo, name="why_photo"),
]

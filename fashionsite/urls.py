from django.contrib import admin
from django.urls import include, path

from classifier.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("classifier.urls")),
]

handler400 = "classifier.errors.bad_request"
handler404 = "classifier.errors.not_found"
handler500 = "classifier.errors.server_error"

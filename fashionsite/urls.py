from django.contrib import admin
from django.urls import include, path

from classifier.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("classifier.urls")),
]

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from skranke.config.api import api

urlpatterns = [
    path("", RedirectView.as_view(pattern_name="cases:queue", permanent=False), name="home"),
    path("accounts/", include("skranke.accounts.urls")),
    path("cases/", include("skranke.cases.urls")),
    path("customers/", include("skranke.customers.urls")),
    path("workforce/", include("skranke.workforce.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("api/v1/", api.urls),
]

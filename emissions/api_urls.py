from django.urls import include, path

urlpatterns = [
    path("", include("emissions.api.installations")),
    path("", include("emissions.api.reports")),
    path("", include("emissions.api.sharing")),
    path("", include("emissions.api.template_import")),
]

from django.urls import include, path

app_name = "emissions"

urlpatterns = [
    path("", include("emissions.views.installations")),
    path("", include("emissions.views.reports")),
    path("", include("emissions.views.sharing")),
    path("", include("emissions.views.data_requests")),
    path("", include("emissions.views.template_import")),
]

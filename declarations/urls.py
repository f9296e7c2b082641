from django.urls import include, path

app_name = "declarations"

urlpatterns: list = [
    path("", include("declarations.views.assess")),
    path("", include("declarations.views.declarations")),
    path("", include("declarations.views.imports")),
    path("", include("declarations.views.suppliers")),
    path("", include("declarations.views.threshold")),
]

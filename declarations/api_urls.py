from django.urls import include, path

urlpatterns: list = [
    path("", include("declarations.api.assess")),
    path("", include("declarations.api.declarations")),
    path("", include("declarations.api.imports")),
    path("", include("declarations.api.suppliers")),
    path("", include("declarations.api.threshold")),
]

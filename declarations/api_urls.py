from django.urls import include, path

urlpatterns: list = [
    path("", include("declarations.api.assess")),
    path("", include("declarations.api.declarations")),
    path("", include("declarations.api.changes")),
    path("", include("declarations.api.carbon_prices")),
    path("", include("declarations.api.exports")),
    path("", include("declarations.api.imports")),
    path("", include("declarations.api.qreports")),
    path("", include("declarations.api.suppliers")),
    path("", include("declarations.api.threshold")),
]

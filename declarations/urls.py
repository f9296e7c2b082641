from django.urls import include, path

app_name = "declarations"

urlpatterns: list = [
    path("", include("declarations.views.assess")),
    path("", include("declarations.views.declarations")),
    path("", include("declarations.views.changes")),
    path("", include("declarations.views.carbon_prices")),
    path("", include("declarations.views.exports")),
    path("", include("declarations.views.imports")),
    path("", include("declarations.views.qreports")),
    path("", include("declarations.views.suppliers")),
    path("", include("declarations.views.threshold")),
]

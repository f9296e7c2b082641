from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from cbam_portal.core import health

api_v1 = [
    path("", include("cbam_portal.accounts.api_urls")),
    path("", include("cbam_portal.core.api_urls")),
    path("reference/", include("cbam_portal.reference.api_urls")),
    path("", include("emissions.api_urls")),
    path("", include("declarations.api_urls")),
    path("", include("certificates.api_urls")),
]

urlpatterns = [
    path("healthz", health.healthz, name="healthz"),
    path("readyz", health.readyz, name="readyz"),
    path("admin/", admin.site.urls),
    path("accounts/", include("allauth.urls")),
    path("organisations/", include("cbam_portal.accounts.urls")),
    path("reference/", include("cbam_portal.reference.urls")),
    path("emissions/", include("emissions.urls")),
    path("declarations/", include("declarations.urls")),
    path("certificates/", include("certificates.urls")),
    path("api/v1/", include((api_v1, "api"), namespace="api")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("cbam_portal.core.urls")),
]

from django.apps import AppConfig


class ReferenceConfig(AppConfig):
    name = "cbam_portal.reference"
    label = "reference"
    verbose_name = "Regulatory reference data"

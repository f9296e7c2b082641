from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class CoreConfig(AppConfig):
    name = "cbam_portal.core"
    label = "core"
    verbose_name = "Audit trail and background jobs"

    def ready(self) -> None:
        # Every app registers its background job kinds in its own jobs.py, and its main-menu
        # entries in its own navigation.py.
        autodiscover_modules("jobs")
        autodiscover_modules("navigation")

from django.apps import AppConfig


class DeclarationsConfig(AppConfig):
    name = "declarations"

    def ready(self) -> None:
        from cbam_portal.reference.services import on_current_dataset_changed

        from .services.reference_updates import drafts_recompute_after_reference_change

        on_current_dataset_changed(drafts_recompute_after_reference_change)

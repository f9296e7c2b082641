from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "cbam_portal.accounts"
    label = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self):
        from . import schema  # noqa: F401  (registers the API key scheme with drf-spectacular)

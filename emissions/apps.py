from django.apps import AppConfig


class EmissionsConfig(AppConfig):
    name = "emissions"

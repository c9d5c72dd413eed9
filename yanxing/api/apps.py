from django.apps import AppConfig


class ApiConfig(AppConfig):
    name = "yanxing.api"
    label = "api"
    verbose_name = "API"

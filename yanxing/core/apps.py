from django.apps import AppConfig


class CoreConfig(AppConfig):
    name = "yanxing.core"
    label = "core"
    verbose_name = "核心"

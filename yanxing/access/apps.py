from django.apps import AppConfig


class AccessConfig(AppConfig):
    name = "yanxing.access"
    label = "access"
    verbose_name = "权限"

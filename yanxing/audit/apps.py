from django.apps import AppConfig


class AuditConfig(AppConfig):
    name = "yanxing.audit"
    label = "audit"
    verbose_name = "审计"

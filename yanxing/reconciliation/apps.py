from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReconciliationConfig(AppConfig):
    name = "yanxing.reconciliation"
    label = "reconciliation"
    verbose_name = _("双向对账")

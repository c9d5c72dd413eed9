"""Domain events and the access log, each a hash chain: every row stores the hash of the row
before it, so an edited or deleted row breaks the chain (`verify_audit_chain` reports where).

Field-level change history of members and organizations is kept by django-simple-history on
the models themselves; this app reads it for the audit pages.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from yanxing.core.fields import PathField
from yanxing.core.paths import any_subtree_q
from yanxing.core.querysets import ScopedQuerySet


class AuditQuerySet(ScopedQuerySet):
    def scope_q(self, roots: list[str]) -> Q:
        # By the organization's current path, not the org_path recorded with the row: after a
        # move that path no longer belongs to the organization and may be handed to a new one.
        return any_subtree_q("organization__path", roots)


class ChainedRecord(models.Model):
    created_at = models.DateTimeField(_("时间"), db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    actor_label = models.CharField(_("操作人"), max_length=150, blank=True)
    organization = models.ForeignKey(
        "orgs.Organization", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    org_path = PathField(max_length=255, blank=True, db_index=True)
    target_type = models.CharField(_("对象类型"), max_length=60, blank=True)
    target_id = models.CharField(_("对象编号"), max_length=40, blank=True, db_index=True)
    target_label = models.CharField(_("对象"), max_length=150, blank=True)
    ip = models.GenericIPAddressField(null=True, blank=True)
    prev_hash = models.CharField(max_length=64, blank=True)
    hash = models.CharField(max_length=64, unique=True)

    objects = AuditQuerySet.as_manager()

    class Meta:
        abstract = True
        ordering = ["-id"]

    @property
    def actor_display(self) -> str:
        """actor_label, with the label stored for the system itself shown in the current language."""
        return (
            gettext("系统")
            if self.actor_label == "系统" and self.actor_id is None
            else self.actor_label
        )


class Event(ChainedRecord):
    """Something a service did: member created, transferred, marked lost, org moved…"""

    verb = models.CharField(_("事件"), max_length=60, db_index=True)
    summary = models.CharField(_("摘要"), max_length=300, blank=True)
    data = models.JSONField(_("详情"), default=dict, blank=True)

    class Meta(ChainedRecord.Meta):
        verbose_name = _("业务事件")
        verbose_name_plural = _("业务事件")

    def __str__(self) -> str:
        return f"{self.verb} {self.target_label}"


class AccessLog(ChainedRecord):
    """Every reveal and every export of sensitive personal data."""

    class Action(models.TextChoices):
        REVEAL = "reveal", _("查看明文")
        EXPORT = "export", _("导出")

    action = models.CharField(_("操作"), max_length=16, choices=Action.choices, db_index=True)
    fields = models.CharField(_("字段"), max_length=200, blank=True)
    row_count = models.PositiveIntegerField(_("记录数"), default=1)
    reason = models.CharField(_("事由"), max_length=200, blank=True)

    class Meta(ChainedRecord.Meta):
        verbose_name = _("敏感数据访问记录")
        verbose_name_plural = _("敏感数据访问记录")

    FIELD_LABELS = {
        "id_number": _("身份证号"),
        "phone": _("手机号"),
        "sensitive_notes": _("敏感备注"),
    }

    def __str__(self) -> str:
        return f"{self.action} {self.fields} {self.target_label}"

    @property
    def fields_display(self) -> str:
        return "、".join(
            str(self.FIELD_LABELS.get(name, name)) for name in self.fields.split(",") if name
        )


class ChainHead(models.Model):
    """One row per chain; locked while appending so concurrent writers cannot fork the chain."""

    name = models.CharField(max_length=32, primary_key=True)
    last_hash = models.CharField(max_length=64, blank=True)

    def __str__(self) -> str:
        return self.name

"""The organization tree: county department → townships → village branches, and external
organizations (在外党组织) that a county sets up in host cities."""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from simple_history.models import HistoricalRecords

from yanxing.core.fields import PathField
from yanxing.core.models import TimeStampedModel

from .querysets import OrganizationQuerySet


class OrgKind(models.TextChoices):
    COUNTY_DEPARTMENT = "county_department", _("县委组织部")
    PARTY_COMMITTEE = "party_committee", _("党委")
    GENERAL_BRANCH = "general_branch", _("党总支")
    FORMAL_BRANCH = "formal_branch", _("建制型党支部")
    FUNCTIONAL_BRANCH = "functional_branch", _("功能型党支部")
    PARTY_GROUP = "party_group", _("党小组")


#: Kinds that may hold membership relations (一方隶属).
HOLDS_MEMBERSHIP = {OrgKind.FORMAL_BRANCH, OrgKind.GENERAL_BRANCH, OrgKind.PARTY_COMMITTEE}
#: Which kinds may sit directly under which.
ALLOWED_CHILDREN: dict[str, set[str]] = {
    OrgKind.COUNTY_DEPARTMENT: {
        OrgKind.PARTY_COMMITTEE,
        OrgKind.GENERAL_BRANCH,
        OrgKind.FORMAL_BRANCH,
        OrgKind.FUNCTIONAL_BRANCH,
    },
    OrgKind.PARTY_COMMITTEE: {
        OrgKind.PARTY_COMMITTEE,
        OrgKind.GENERAL_BRANCH,
        OrgKind.FORMAL_BRANCH,
        OrgKind.FUNCTIONAL_BRANCH,
    },
    OrgKind.GENERAL_BRANCH: {OrgKind.FORMAL_BRANCH, OrgKind.FUNCTIONAL_BRANCH},
    OrgKind.FORMAL_BRANCH: {OrgKind.PARTY_GROUP},
    OrgKind.FUNCTIONAL_BRANCH: {OrgKind.PARTY_GROUP},
    OrgKind.PARTY_GROUP: set(),
}


class Organization(TimeStampedModel):
    class Status(models.TextChoices):
        ACTIVE = "active", _("正常")
        CLOSED = "closed", _("已撤销")

    name = models.CharField(_("名称"), max_length=120)
    short_name = models.CharField(_("简称"), max_length=60, blank=True)
    kind = models.CharField(_("类型"), max_length=32, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name=_("上级党组织"),
    )
    path = PathField(_("路径"), max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField(_("层级"), default=1, editable=False)
    is_external = models.BooleanField(_("在外党组织"), default=False)
    division = models.ForeignKey(
        "regions.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("所在行政区划"),
    )
    host_division = models.ForeignKey(
        "regions.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("驻在地（流入地）"),
    )
    host_basis = models.CharField(
        _("依托单位"), max_length=120, blank=True, help_text=_("商会、园区或企业")
    )
    address = models.CharField(_("地址"), max_length=200, blank=True)
    founded_on = models.DateField(_("成立日期"), null=True, blank=True)
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.ACTIVE
    )
    closed_on = models.DateField(_("撤销日期"), null=True, blank=True)
    close_reason = models.CharField(_("撤销原因"), max_length=200, blank=True)
    require_staff_totp = models.BooleanField(
        _("工作人员须启用动态口令"), default=False, help_text=_("对本组织及下级组织的工作人员生效")
    )
    history = HistoricalRecords(excluded_fields=["path", "depth", "updated_at"])

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = pgettext_lazy("singular", "党组织")
        verbose_name_plural = _("党组织")
        constraints = [
            models.CheckConstraint(
                condition=~models.Q(is_external=True, host_division__isnull=True),
                name="external_org_has_host_division",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def holds_membership(self) -> bool:
        return self.kind in HOLDS_MEMBERSHIP

"""The organization tree: county department → townships → village branches, and external
organizations (在外党组织) that a county sets up in host cities."""

from __future__ import annotations

from django.db import models
from simple_history.models import HistoricalRecords

from yanxing.core.models import TimeStampedModel

from .querysets import OrganizationQuerySet


class OrgKind(models.TextChoices):
    COUNTY_DEPARTMENT = "county_department", "县委组织部"
    PARTY_COMMITTEE = "party_committee", "党委"
    GENERAL_BRANCH = "general_branch", "党总支"
    FORMAL_BRANCH = "formal_branch", "建制型党支部"
    FUNCTIONAL_BRANCH = "functional_branch", "功能型党支部"
    PARTY_GROUP = "party_group", "党小组"


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
        ACTIVE = "active", "正常"
        CLOSED = "closed", "已撤销"

    name = models.CharField("名称", max_length=120)
    short_name = models.CharField("简称", max_length=60, blank=True)
    kind = models.CharField("类型", max_length=32, choices=OrgKind.choices)
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        verbose_name="上级党组织",
    )
    path = models.CharField("路径", max_length=255, unique=True, editable=False)
    depth = models.PositiveSmallIntegerField("层级", default=1, editable=False)
    is_external = models.BooleanField("在外党组织", default=False)
    division = models.ForeignKey(
        "regions.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="所在行政区划",
    )
    host_division = models.ForeignKey(
        "regions.Division",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name="驻在地（流入地）",
    )
    host_basis = models.CharField("依托单位", max_length=120, blank=True, help_text="商会、园区或企业")
    address = models.CharField("地址", max_length=200, blank=True)
    founded_on = models.DateField("成立日期", null=True, blank=True)
    status = models.CharField("状态", max_length=16, choices=Status.choices, default=Status.ACTIVE)
    closed_on = models.DateField("撤销日期", null=True, blank=True)
    close_reason = models.CharField("撤销原因", max_length=200, blank=True)
    require_staff_totp = models.BooleanField(
        "工作人员须启用动态口令", default=False, help_text="对本组织及下级组织的工作人员生效"
    )
    history = HistoricalRecords(excluded_fields=["path", "depth", "updated_at"])

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["path"]
        verbose_name = "党组织"
        verbose_name_plural = "党组织"
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

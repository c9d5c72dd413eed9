"""Two-way reconciliation (双向对账): a run compares a home ledger with host ledgers.

A run snapshots both tables as rows (`RunRecord`, masked: no plain ID or phone number is
stored here), the pairs the engine or identity proposed (`RunPair`), field disagreements on
pairs (`RunConflict`) and duplicate groups. People decide on pairs; a confirmed pair may change
the registry, and every such change is a `Merge` that can be undone. Both sides sign off.
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from yanxing.core.fields import EncryptedTextField
from yanxing.core.models import TimeStampedModel

from .querysets import (
    DuplicateGroupQuerySet,
    MergeQuerySet,
    RunConflictQuerySet,
    RunHostQuerySet,
    RunPairQuerySet,
    RunQuerySet,
    RunRecordQuerySet,
    SignOffQuerySet,
)

#: Conflict fields in the interface's language (the engine's labels are stored as data).
FIELD_NAMES = {
    "name": _("姓名"),
    "id_number": _("身份证号"),
    "phone": _("手机号"),
    "sex": _("性别"),
    "birth_date": _("出生日期"),
    "home_village": _("户籍地"),
    "city": _("所在城市"),
    "employer": _("工作单位"),
    "contact_state": _("联系状态"),
    "mobility_status": _("流动状态"),
}
STAGE_NAMES = {
    "home": _("读取流出地台账"),
    "hosts": _("读取流入地名单"),
    "matching": _("匹配记录"),
    "saving": _("保存结果"),
}
NOTE_NAMES = {"lost": _("失联"), "local": _("在本地")}
#: A run waiting or running this long without progress may be retried.
STUCK_AFTER = dt.timedelta(minutes=10)


class Run(TimeStampedModel):
    class Status(models.TextChoices):
        QUEUED = "queued", _("排队中")
        RUNNING = "running", _("比对中")
        FINISHED = "finished", _("已完成")
        FAILED = "failed", _("失败")

    home_org = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="reconciliation_runs",
        verbose_name=_("流出地党组织"),
    )
    quarter = models.CharField(_("季度"), max_length=6, db_index=True)
    hosts = models.ManyToManyField(
        "orgs.Organization",
        through="RunHost",
        related_name="+",
        verbose_name=_("流入地党组织"),
    )
    status = models.CharField(
        _("状态"), max_length=16, choices=Status.choices, default=Status.QUEUED
    )
    progress = models.PositiveSmallIntegerField(_("进度"), default=0)
    stage = models.CharField(_("当前步骤"), max_length=40, blank=True)
    error = models.TextField(_("错误信息"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("发起人"),
    )
    started_at = models.DateTimeField(_("开始时间"), null=True, blank=True)
    finished_at = models.DateTimeField(_("完成时间"), null=True, blank=True)
    #: Set when the home side and every host have signed off.
    closed_at = models.DateTimeField(_("双方签字完成时间"), null=True, blank=True)
    #: Figures of the whole run when it finished (the home side's view).
    counts = models.JSONField(_("统计"), default=dict, blank=True)
    task_id = models.CharField(max_length=64, blank=True, editable=False)

    objects = RunQuerySet.as_manager()

    class Meta:
        ordering = ["-quarter", "-id"]
        verbose_name = _("对账")
        verbose_name_plural = _("对账")
        indexes = [models.Index(fields=["home_org", "quarter"])]

    def __str__(self) -> str:
        return f"{self.quarter} {self.home_org}"

    @property
    def is_finished(self) -> bool:
        return self.status == self.Status.FINISHED

    @property
    def is_active(self) -> bool:
        return self.status in (self.Status.QUEUED, self.Status.RUNNING)

    @property
    def looks_stuck(self) -> bool:
        """Waiting or running with no progress for a while (the worker may have stopped)."""
        from django.utils import timezone

        return self.is_active and timezone.now() - self.updated_at > STUCK_AFTER

    @property
    def stage_label(self) -> str:
        return str(STAGE_NAMES.get(self.stage, ""))


class RunHost(models.Model):
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="run_hosts")
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("流入地党组织"),
    )

    objects = RunHostQuerySet.as_manager()

    class Meta:
        ordering = ["organization__path"]
        verbose_name = _("对账流入地")
        verbose_name_plural = _("对账流入地")
        constraints = [
            models.UniqueConstraint(fields=["run", "organization"], name="unique_run_host"),
        ]

    def __str__(self) -> str:
        return str(self.organization)


class Side(models.TextChoices):
    LEFT = "left", _("流出地台账")
    RIGHT = "right", _("流入地")


class DuplicateGroup(models.Model):
    """Records of one side of a run that the engine takes for one person (疑似重复)."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="duplicate_groups")
    side = models.CharField(_("所在台账"), max_length=8, choices=Side.choices)
    score = models.FloatField(_("相似度"))

    objects = DuplicateGroupQuerySet.as_manager()

    class Meta:
        ordering = ["side", "id"]
        verbose_name = _("疑似重复")
        verbose_name_plural = _("疑似重复")

    def __str__(self) -> str:
        return f"{self.get_side_display()} #{self.pk}"


class RunRecord(models.Model):
    """One row of a run's table, as it was when the run was made (identifiers masked)."""

    class Source(models.TextChoices):
        MEMBER = "member", _("系统内党员")
        HOST_LIST = "host_list", _("流入地名单")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="records")
    side = models.CharField(_("所在台账"), max_length=8, choices=Side.choices)
    #: "m<member id>" or "h<host record id>": the id the linkage engine saw.
    key = models.CharField(max_length=24)
    source = models.CharField(_("来源"), max_length=16, choices=Source.choices)
    #: Right rows: the host organization of the run the row belongs to. Left rows: the
    #: member's home organization.
    organization = models.ForeignKey(
        "orgs.Organization",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("所属党组织"),
    )
    member = models.ForeignKey(
        "members.Member", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    host_record = models.ForeignKey(
        "ledgers.HostRecord", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(_("姓名"), max_length=60)
    id_masked = models.CharField(_("身份证号"), max_length=18, blank=True)
    phone_masked = models.CharField(_("手机号"), max_length=11, blank=True)
    sex = models.CharField(_("性别"), max_length=2, blank=True)
    birth_date = models.CharField(_("出生日期"), max_length=10, blank=True)
    home_village = models.CharField(_("户籍地"), max_length=255, blank=True)
    city = models.CharField(_("所在城市"), max_length=100, blank=True)
    employer = models.CharField(_("工作单位"), max_length=120, blank=True)
    #: The home ledger's status of the member, when it says something (失联, 在本地).
    note = models.CharField(_("备注"), max_length=60, blank=True)
    duplicate_group = models.ForeignKey(
        DuplicateGroup,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="records",
    )

    objects = RunRecordQuerySet.as_manager()

    class Meta:
        ordering = ["side", "organization__path", "name", "id"]
        verbose_name = _("对账记录")
        verbose_name_plural = _("对账记录")
        constraints = [
            models.UniqueConstraint(
                fields=["run", "side", "key", "organization"], name="unique_run_record"
            ),
        ]
        indexes = [models.Index(fields=["run", "side", "organization"])]

    def __str__(self) -> str:
        return self.name

    @property
    def note_labels(self) -> list[str]:
        return [str(NOTE_NAMES.get(code, code)) for code in self.note.split(",") if code]


class RunPair(models.Model):
    """A home-ledger row and a host-side row that may be one person."""

    class Decision(models.TextChoices):
        IDENTITY = "identity", _("同一档案")
        MATCH = "match", _("建议匹配")
        REVIEW = "review", _("需人工复核")

    class Status(models.TextChoices):
        PROPOSED = "proposed", _("待确认")
        CONFIRMED = "confirmed", _("已确认")
        REJECTED = "rejected", _("已驳回")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="pairs")
    left = models.ForeignKey(
        RunRecord, on_delete=models.CASCADE, related_name="pairs_as_left", verbose_name=_("流出地")
    )
    right = models.ForeignKey(
        RunRecord, on_delete=models.CASCADE, related_name="pairs_as_right", verbose_name=_("流入地")
    )
    score = models.FloatField(_("匹配概率"))
    weight = models.FloatField(_("证据权重"), default=0)
    decision = models.CharField(_("判定"), max_length=16, choices=Decision.choices)
    reasons = models.JSONField(_("依据"), default=list, blank=True)
    status = models.CharField(
        _("确认状态"), max_length=16, choices=Status.choices, default=Status.PROPOSED
    )
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    objects = RunPairQuerySet.as_manager()

    class Meta:
        ordering = ["-score", "id"]
        verbose_name = _("对账配对")
        verbose_name_plural = _("对账配对")
        constraints = [
            models.UniqueConstraint(fields=["left", "right"], name="unique_run_pair"),
        ]
        indexes = [models.Index(fields=["run", "status", "decision"])]

    def __str__(self) -> str:
        return f"{self.left.name} ↔ {self.right.name}"


class RunConflict(models.Model):
    """A field on which the two rows of a pair disagree (values masked for ID and phone)."""

    class Resolution(models.TextChoices):
        PENDING = "", _("未处理")
        HOME = "home", _("以流出地为准")
        HOST = "host", _("采用流入地信息")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="conflicts")
    pair = models.ForeignKey(RunPair, on_delete=models.CASCADE, related_name="conflicts")
    field = models.CharField(_("字段"), max_length=32)
    label = models.CharField(_("字段名称"), max_length=32)
    left_value = models.CharField(_("流出地信息"), max_length=255, blank=True)
    right_value = models.CharField(_("流入地信息"), max_length=255, blank=True)
    resolution = models.CharField(
        _("处理结果"), max_length=8, choices=Resolution.choices, blank=True, default=""
    )
    resolved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    resolved_at = models.DateTimeField(_("处理时间"), null=True, blank=True)

    objects = RunConflictQuerySet.as_manager()

    class Meta:
        ordering = ["pair_id", "id"]
        verbose_name = _("信息不一致")
        verbose_name_plural = _("信息不一致")
        constraints = [
            models.UniqueConstraint(fields=["pair", "field"], name="unique_conflict_per_field"),
        ]

    def __str__(self) -> str:
        return f"{self.label}: {self.left_value} / {self.right_value}"

    @property
    def field_name(self) -> str:
        return str(FIELD_NAMES.get(self.field, self.label))


class Merge(models.Model):
    """What confirming a pair changed in the registry, with what it takes to undo it.

    `summary` says in plain, non-sensitive terms what changed (shown on the page and in the
    audit); `undo_data` holds the previous values themselves, encrypted, since they may include
    ID and phone numbers.
    """

    class Kind(models.TextChoices):
        HOST_RECORD = "host_record", _("名单记录认定为党员")
        MEMBER = "member", _("合并党员档案")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="merges")
    pair = models.ForeignKey(RunPair, on_delete=models.PROTECT, related_name="merges")
    kind = models.CharField(_("类型"), max_length=16, choices=Kind.choices)
    survivor = models.ForeignKey(
        "members.Member",
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("保留的党员档案"),
    )
    #: The member record merged into the survivor (deactivated), for member merges.
    duplicate = models.ForeignKey(
        "members.Member",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="merged_into",
        verbose_name=_("并入的党员档案"),
    )
    host_record = models.ForeignKey(
        "ledgers.HostRecord",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        verbose_name=_("流入地名单记录"),
    )
    summary = models.JSONField(_("变更摘要"), default=dict, blank=True)
    undo_data = EncryptedTextField(_("撤销所需数据"), purpose="reconciliation.merge.undo")
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(_("合并时间"), auto_now_add=True)
    undone_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    undone_at = models.DateTimeField(_("撤销时间"), null=True, blank=True)

    objects = MergeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("合并记录")
        verbose_name_plural = _("合并记录")

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.survivor}"

    @property
    def is_undone(self) -> bool:
        return self.undone_at is not None


class SignOff(models.Model):
    class SideChoice(models.TextChoices):
        HOME = "home", _("流出地")
        HOST = "host", _("流入地")

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="signoffs")
    organization = models.ForeignKey(
        "orgs.Organization", on_delete=models.PROTECT, related_name="+", verbose_name=_("党组织")
    )
    side = models.CharField(_("签字方"), max_length=8, choices=SideChoice.choices)
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    signer_name = models.CharField(_("签字人"), max_length=150)
    signed_at = models.DateTimeField(_("签字时间"))
    note = models.CharField(_("意见"), max_length=200, blank=True)

    objects = SignOffQuerySet.as_manager()

    class Meta:
        ordering = ["side", "signed_at", "id"]
        verbose_name = _("对账签字")
        verbose_name_plural = _("对账签字")
        constraints = [
            models.UniqueConstraint(fields=["run", "organization"], name="unique_signoff_per_org"),
        ]

    def __str__(self) -> str:
        return f"{self.organization} {self.signer_name}"

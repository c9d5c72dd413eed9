"""Exports of member lists: masked unless revealed, formula-safe cells, always access-logged."""

from __future__ import annotations

import csv
import io
from typing import Any

from django.db.models import QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from yanxing.access.policy import granted_roots
from yanxing.access.roles import Action
from yanxing.audit.services import record_access
from yanxing.core.paths import is_within

from .models import Member

FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
HEADERS = [
    _("姓名"),
    _("身份证号"),
    _("手机号"),
    _("性别"),
    _("出生日期"),
    _("党员类别"),
    _("组织关系所在党组织"),
    _("流动状态"),
    _("流向地"),
    _("工作单位"),
    _("行业"),
    _("联系状态"),
]


def safe_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_PREFIXES) else text


def member_row(member: Member, plain: bool) -> list[str]:
    return [
        safe_cell(v)
        for v in [
            member.name,
            member.id_number if plain else member.id_masked,
            member.phone if plain else member.phone_masked,
            member.get_sex_display(),
            member.birth_date.isoformat() if member.birth_date else "",
            member.get_category_display(),
            member.home_org.name,
            member.get_mobility_status_display(),
            member.destination.full_name if member.destination else "",
            member.employer,
            member.get_industry_display(),
            member.get_contact_state_display(),
        ]
    ]


def members_csv(
    *, actor: Any, queryset: QuerySet[Member], plain: bool, ip: str | None
) -> HttpResponse:
    """UTF-8 with BOM so Excel opens it. Plain values only for members the actor may reveal."""
    sensitive_roots = granted_roots(actor, Action.MEMBERS_VIEW_SENSITIVE) if plain else []
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([str(header) for header in HEADERS])
    count = 0
    for member in queryset.select_related("home_org", "destination").iterator(chunk_size=2000):
        writer.writerow(
            member_row(member, plain and is_within(member.home_org.path, sensitive_roots))
        )
        count += 1
    from yanxing.orgs.models import Organization

    export_roots = granted_roots(actor, Action.MEMBERS_EXPORT)
    scope_org = Organization.objects.filter(path=export_roots[0]).first() if export_roots else None
    record_access(
        actor=actor,
        action="export",
        organization=scope_org,
        fields=["id_number", "phone"] if plain else ["masked"],
        row_count=count,
        reason="plain" if plain else "masked",
        ip=ip,
    )
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="members-{stamp}.csv"'
    return response

"""Exports of member lists (CSV and .xlsx): masked unless revealed, formula-safe cells, always
access-logged."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
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


XLSX_CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
XLSX_WIDTHS = (10, 22, 14, 6, 12, 10, 28, 10, 24, 28, 22, 10)
XLSX_TEXT_COLUMNS = "BC"  # ID number and phone


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


def _rows(actor: Any, queryset: QuerySet[Member], plain: bool) -> Iterator[list[str]]:
    """Export rows: plain values only for members whose home organization the actor may reveal."""
    sensitive_roots = granted_roots(actor, Action.MEMBERS_VIEW_SENSITIVE) if plain else []
    for member in queryset.select_related("home_org", "destination").iterator(chunk_size=2000):
        yield member_row(member, plain and is_within(member.home_org.path, sensitive_roots))


def _log_export(*, actor: Any, plain: bool, count: int, ip: str | None) -> None:
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


def _attachment(response: HttpResponse, extension: str) -> HttpResponse:
    stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="members-{stamp}.{extension}"'
    return response


def members_csv(
    *, actor: Any, queryset: QuerySet[Member], plain: bool, ip: str | None
) -> HttpResponse:
    """UTF-8 with BOM so Excel opens it. Plain values only for members the actor may reveal."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow([str(header) for header in HEADERS])
    count = 0
    for row in _rows(actor, queryset, plain):
        writer.writerow(row)
        count += 1
    _log_export(actor=actor, plain=plain, count=count, ip=ip)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    return _attachment(response, "csv")


def members_xlsx(
    *, actor: Any, queryset: QuerySet[Member], plain: bool, ip: str | None
) -> HttpResponse:
    """The same rows as the CSV, as an .xlsx workbook. Every cell is text (ID and phone
    columns formatted as text, so Excel keeps every digit); cells that would start a formula
    carry the same leading apostrophe as in the CSV."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(str(_("党员名册")))
    for letter, width in zip("ABCDEFGHIJKL", XLSX_WIDTHS, strict=True):
        sheet.column_dimensions[letter].width = width
        if letter in XLSX_TEXT_COLUMNS:
            sheet.column_dimensions[letter].number_format = "@"
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for title in HEADERS:
        cell = WriteOnlyCell(sheet, value=str(title))
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in _rows(actor, queryset, plain):
        cells = []
        for letter, value in zip("ABCDEFGHIJKL", row, strict=True):
            cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
            cell.data_type = "s"
            if letter in XLSX_TEXT_COLUMNS:
                cell.number_format = "@"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    buffer = io.BytesIO()
    workbook.save(buffer)
    _log_export(actor=actor, plain=plain, count=count, ip=ip)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    return _attachment(response, "xlsx")

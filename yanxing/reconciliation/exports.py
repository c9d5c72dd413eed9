"""A run's report as .xlsx: a summary sheet and a sheet per list, as the actor sees the run.

Identifiers are masked (the run keeps nothing else), every text cell is formula-neutralised,
ID and phone columns are text, and the export is written to the access log.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from django.http import HttpResponse
from django.utils import timezone
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from yanxing.audit.services import record_access
from yanxing.members.exports import safe_cell

from .models import Run, RunPair, RunRecord
from .selectors import RunLists

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PAIR_HEADERS = [
    "流出地姓名",
    "流出地身份证号",
    "流出地手机号",
    "组织关系所在党组织",
    "流入地姓名",
    "流入地身份证号",
    "流入地手机号",
    "流入地党组织",
    "来源",
    "匹配概率",
    "判定",
    "确认状态",
    "依据",
]
RECORD_HEADERS = [
    "姓名",
    "身份证号",
    "手机号",
    "性别",
    "出生日期",
    "户籍地",
    "所在城市",
    "工作单位",
    "所属党组织",
    "来源",
    "备注",
]
TEXT_COLUMNS = {
    "身份证号",
    "手机号",
    "流出地身份证号",
    "流出地手机号",
    "流入地身份证号",
    "流入地手机号",
}
SHEETS = [
    ("已对上", "matched"),
    ("待复核", "review"),
    ("外出未纳管", "unmanaged"),
    ("来源不明的报到", "unknown"),
    ("疑似重复", "duplicates"),
    ("信息不一致", "conflicts"),
]
SOURCE = {"member": "系统内党员", "host_list": "流入地名单"}
DECISION = {"identity": "同一档案", "match": "建议匹配", "review": "需人工复核"}
STATUS = {"proposed": "待确认", "confirmed": "已确认", "rejected": "已驳回"}
NOTES = {"lost": "失联", "local": "在本地"}
RESOLUTION = {"": "未处理", "home": "以流出地为准", "host": "采用流入地信息"}


def _sheet(book: Workbook, title: str, headers: list[str], rows: Iterable[list[Any]]) -> int:
    sheet: Worksheet = book.create_sheet(title)
    sheet.append(headers)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    count = 0
    for row in rows:
        sheet.append([v if isinstance(v, int | float) else safe_cell(v) for v in row])
        count += 1
    for index, header in enumerate(headers, start=1):
        letter = sheet.cell(row=1, column=index).column_letter
        sheet.column_dimensions[letter].width = max(10, min(40, len(header) * 2 + 4))
        if header in TEXT_COLUMNS:
            for (cell,) in sheet.iter_rows(min_row=2, min_col=index, max_col=index):
                cell.number_format = "@"
    sheet.freeze_panes = "A2"
    return count


def _pair_row(pair: RunPair) -> list[Any]:
    left, right = pair.left, pair.right
    return [
        left.name,
        left.id_masked,
        left.phone_masked,
        left.organization.name,
        right.name,
        right.id_masked,
        right.phone_masked,
        right.organization.name,
        SOURCE.get(right.source, right.source),
        round(pair.score, 4),
        DECISION.get(pair.decision, pair.decision),
        STATUS.get(pair.status, pair.status),
        "；".join(pair.reasons),
    ]


def _record_row(record: RunRecord) -> list[Any]:
    return [
        record.name,
        record.id_masked,
        record.phone_masked,
        record.sex,
        record.birth_date,
        record.home_village,
        record.city,
        record.employer,
        record.organization.name,
        SOURCE.get(record.source, record.source),
        "、".join(NOTES.get(n, n) for n in record.note.split(",") if n),
    ]


def run_workbook(lists: RunLists, signoffs: list[Any]) -> tuple[bytes, int]:
    """The workbook's bytes and the number of data rows in it."""
    run: Run = lists.run
    book = Workbook()
    summary: Any = book.active
    summary.title = "概况"
    counts = lists.counts()
    summary.append(["季度", run.quarter])
    summary.append(["流出地党组织", safe_cell(run.home_org.name)])
    summary.append(["完成时间", timezone.localtime(run.finished_at).strftime("%Y-%m-%d %H:%M")])
    for title, name in SHEETS:
        summary.append([title, counts[name]])
    summary.append([])
    summary.append(["签字党组织", "签字人", "签字时间", "意见"])
    for signoff in signoffs:
        summary.append(
            [
                safe_cell(signoff.organization.name),
                safe_cell(signoff.signer_name),
                timezone.localtime(signoff.signed_at).strftime("%Y-%m-%d %H:%M"),
                safe_cell(signoff.note),
            ]
        )
    summary.column_dimensions["A"].width = 24
    summary.column_dimensions["B"].width = 30
    total = 0
    total += _sheet(book, "已对上", PAIR_HEADERS, (_pair_row(p) for p in lists.matched))
    total += _sheet(book, "待复核", PAIR_HEADERS, (_pair_row(p) for p in lists.review))
    total += _sheet(book, "外出未纳管", RECORD_HEADERS, (_record_row(r) for r in lists.unmanaged))
    total += _sheet(book, "来源不明的报到", RECORD_HEADERS, (_record_row(r) for r in lists.unknown))
    total += _sheet(
        book,
        "疑似重复",
        ["组号", "所在台账", "相似度", *RECORD_HEADERS],
        (
            [
                group.pk,
                "流出地台账" if group.side == "left" else "流入地",
                round(group.score, 4),
                *_record_row(record),
            ]
            for group in lists.duplicates
            for record in getattr(group, "visible_records", [])
        ),
    )
    total += _sheet(
        book,
        "信息不一致",
        [
            "流出地姓名",
            "流入地姓名",
            "流入地党组织",
            "字段",
            "流出地信息",
            "流入地信息",
            "处理结果",
        ],
        (
            [
                c.pair.left.name,
                c.pair.right.name,
                c.pair.right.organization.name,
                c.label,
                c.left_value,
                c.right_value,
                RESOLUTION.get(c.resolution, c.resolution),
            ]
            for c in lists.conflicts
        ),
    )
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue(), total


def run_xlsx(
    *,
    actor: Any,
    lists: RunLists,
    signoffs: list[Any],
    organization: Any,
    ip: str | None = None,
) -> HttpResponse:
    """`organization`: the side the actor exports for (the home organization or its host)."""
    content, rows = run_workbook(lists, signoffs)
    run = lists.run
    record_access(
        actor=actor,
        action="export",
        fields=["masked"],
        target=run,
        organization=organization,
        row_count=rows,
        reason="masked",
        ip=ip,
    )
    response = HttpResponse(content, content_type=XLSX)
    response["Content-Disposition"] = (
        f'attachment; filename="reconciliation-{run.quarter}-{run.pk}.xlsx"'
    )
    return response

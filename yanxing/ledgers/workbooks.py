"""Workbooks the ledgers app hands out: the template of each ledger kind and the error workbook.

The template has the kind's Chinese headers, a 说明 sheet, dropdowns for every enumeration
(their values on a hidden 选项 sheet, so long lists fit) and text format on the ID and phone
columns, so Excel keeps all 18 digits. The error workbook holds only the failed rows, as
they were uploaded, with a 错误原因 column and the offending cells filled red: fix them and
upload the file again.
"""

from __future__ import annotations

import io
from collections.abc import Callable

from django.utils import translation
from django.utils.translation import gettext
from openpyxl import Workbook
from openpyxl.cell import Cell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter, quote_sheetname
from openpyxl.worksheet.datavalidation import DataValidation
from openpyxl.worksheet.worksheet import Worksheet

from .kinds import Column, ColumnType, LedgerKind
from .messages import RowIssue
from .reading import Limits, TableRow, size_text

TEXT = "@"
DATE = "yyyy-mm-dd"
HEADER_FONT = Font(bold=True)
REQUIRED_FILL = PatternFill("solid", fgColor="FFFDE9D9")
OPTIONAL_FILL = PatternFill("solid", fgColor="FFEFEFEF")
ERROR_FILL = PatternFill("solid", fgColor="FFFFC7CE")
ERROR_FONT = Font(color="FF9C0006")
ERROR_COLUMN = "错误原因"
INSTRUCTIONS_SHEET = "说明"
OPTIONS_SHEET = "选项"
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def _bytes(workbook: Workbook) -> bytes:
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_cell(cell: Cell, value: str) -> None:
    """A cell that holds text and stays text: never read as a formula by Excel."""
    cell.value = ILLEGAL_CHARACTERS_RE.sub("", value)
    cell.data_type = "s"
    if value.startswith(FORMULA_PREFIXES):
        cell.quotePrefix = True


# --------------------------------------------------------------------------------------------
# Template
# --------------------------------------------------------------------------------------------


def template_workbook(kind: LedgerKind, limits: Limits | None = None) -> bytes:
    """The kind's template. Headers and instructions are Chinese, like the ledgers themselves."""
    limits = limits or Limits.from_settings()
    last_row = limits.max_rows + 1
    with translation.override("zh-hans"):
        workbook = Workbook()
        sheet = workbook.active
        assert sheet is not None
        sheet.title = kind.sheet_title
        options = workbook.create_sheet(OPTIONS_SHEET)
        options.sheet_state = "hidden"
        option_column = 0
        for position, column in enumerate(kind.columns, 1):
            letter = get_column_letter(position)
            cell = sheet.cell(row=1, column=position, value=column.header)
            cell.font = HEADER_FONT
            cell.fill = REQUIRED_FILL if column.required else OPTIONAL_FILL
            cell.alignment = Alignment(horizontal="center")
            cell.comment = Comment(_column_note(column), "雁行")
            dimension = sheet.column_dimensions[letter]
            dimension.width = column.width
            area = f"{letter}2:{letter}{last_row}"
            if column.value_type in (ColumnType.ID, ColumnType.PHONE):
                dimension.number_format = TEXT
                prompt = DataValidation(
                    showInputMessage=True,
                    promptTitle=column.header,
                    prompt=str(column.note)[:255],
                )
                prompt.add(area)
                sheet.add_data_validation(prompt)
            elif column.value_type == ColumnType.DATE:
                dimension.number_format = DATE
            elif column.choices is not None:
                option_column += 1
                labels = column.choice_labels()
                option_letter = get_column_letter(option_column)
                options.cell(row=1, column=option_column, value=column.header)
                for row, label in enumerate(labels, 2):
                    options.cell(row=row, column=option_column, value=label)
                dropdown = DataValidation(
                    type="list",
                    formula1=f"{quote_sheetname(OPTIONS_SHEET)}!${option_letter}$2:"
                    f"${option_letter}${len(labels) + 1}",
                    allow_blank=True,
                    showErrorMessage=True,
                    errorStyle="stop",
                    errorTitle=column.header,
                    error=gettext("请从下拉列表中选择。"),
                )
                dropdown.add(area)
                sheet.add_data_validation(dropdown)
        sheet.freeze_panes = "A2"
        _instructions(workbook.create_sheet(INSTRUCTIONS_SHEET, 1), kind, limits)
        return _bytes(workbook)


def _column_note(column: Column) -> str:
    required = gettext("必填") if column.required else gettext("选填")
    return f"{required}。{column.note}"


def _instructions(sheet: Worksheet, kind: LedgerKind, limits: Limits) -> None:
    sheet.column_dimensions["A"].width = 18
    sheet.column_dimensions["B"].width = 8
    sheet.column_dimensions["C"].width = 70
    sheet.column_dimensions["D"].width = 50
    lines = [
        [gettext("%(kind)s 填写说明") % {"kind": kind.label}],
        [str(kind.description)],
        [
            gettext(
                "第一行是列名，请勿修改或删除；从第二行起每行一人。列的顺序可以调整，"
                "模板以外的列导入时忽略。"
            )
        ],
        [
            gettext(
                "身份证号、手机号两列已设为文本格式。如果从其他表格粘贴，请使用“选择性粘贴 → 数值”，"
                "并确认身份证号没有变成 1.10105E+17 这样的数字。"
            )
        ],
        [
            gettext(
                "一次最多 %(rows)s 行、文件不超过 %(size)s。也可以上传 .xls 或 CSV 文件"
                "（UTF-8 或 GB18030 编码）。"
            )
            % {"rows": limits.max_rows, "size": size_text(limits.max_bytes)}
        ],
        [],
        [gettext("列名"), gettext("必填"), gettext("填写要求"), gettext("可选值")],
    ]
    for line in lines:
        sheet.append(line)
    sheet["A1"].font = Font(bold=True, size=14)
    for cell in sheet[len(lines)]:
        cell.font = HEADER_FONT
        cell.fill = OPTIONAL_FILL
    for column in kind.columns:
        sheet.append(
            [
                column.header,
                gettext("是") if column.required else gettext("否"),
                str(column.note),
                "、".join(column.choice_labels()),
            ]
        )
    for row in sheet.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")


# --------------------------------------------------------------------------------------------
# Error workbook
# --------------------------------------------------------------------------------------------


def error_workbook(
    *,
    kind: LedgerKind,
    headers: list[str],
    rows: list[TableRow],
    issues: dict[int, list[RowIssue]],
    text_positions: set[int],
    mask: Callable[[int, str], str] | None = None,
) -> bytes:
    """The failed rows as uploaded, with their problems. `mask(position, text)` hides cells
    the reader may not see in plain (ID and phone numbers)."""
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = kind.sheet_title
    widths = {c.header: c.width for c in kind.columns}
    for position, header in enumerate([*headers, ERROR_COLUMN], 1):
        cell = sheet.cell(row=1, column=position)
        _text_cell(cell, header)
        cell.font = HEADER_FONT
        cell.fill = ERROR_FILL if header == ERROR_COLUMN else OPTIONAL_FILL
        letter = get_column_letter(position)
        sheet.column_dimensions[letter].width = widths.get(header, 14)
        if position - 1 in text_positions:
            sheet.column_dimensions[letter].number_format = TEXT
    reason_column = len(headers) + 1
    sheet.column_dimensions[get_column_letter(reason_column)].width = 70
    for number, row in enumerate(rows, 2):
        row_issues = issues.get(row.line, [])
        bad = {issue.col for issue in row_issues if issue.col is not None and not issue.warning}
        for position, value in enumerate(row.values):
            cell = sheet.cell(row=number, column=position + 1)
            _text_cell(cell, mask(position, value) if mask else value)
            if position in text_positions:
                cell.number_format = TEXT
            if position in bad:
                cell.fill = ERROR_FILL
                cell.font = ERROR_FONT
        notes = "；".join(issue.cell_note() for issue in row_issues)
        reason = sheet.cell(row=number, column=reason_column)
        _text_cell(
            reason, gettext("（原第 %(line)s 行）%(notes)s") % {"line": row.line, "notes": notes}
        )
        reason.font = ERROR_FONT
        reason.alignment = Alignment(wrap_text=True, vertical="top")
    sheet.freeze_panes = "A2"
    return _bytes(workbook)

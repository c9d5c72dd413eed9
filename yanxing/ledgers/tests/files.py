"""Ledger files made by the tests: real .xlsx (openpyxl), .xls (xlwt) and .csv bytes.

ID numbers are synthetic (region 140822, valid check digits, belonging to no one).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import Any

import openpyxl
import xlwt

from yanxing.core.idnumber import check_char

MEMBER_HEADERS = [
    "姓名",
    "身份证号",
    "手机号",
    "性别",
    "出生日期",
    "党员类别",
    "入党日期",
    "户籍所在村",
    "流动状态",
    "流向地",
    "外出日期",
    "工作单位",
    "从事行业",
    "返乡创业意愿",
    "担任村干部意愿",
]
HOST_HEADERS = [
    "姓名",
    "身份证号",
    "手机号",
    "性别",
    "出生日期",
    "户籍地",
    "所在城市",
    "工作单位",
    "报到日期",
]


def sid(n: int, *, sex: str = "M", year: int = 1980, region: str = "140822") -> str:
    """A synthetic ID number with a valid check digit: born 1 Jan `year`, sequence `n`."""
    first17 = f"{region}{year}0101{n:02d}{'1' if sex == 'M' else '2'}"
    return first17 + check_char(first17)


def phone(n: int) -> str:
    return f"1391234{n:04d}"


def member_row(n: int, **cells: Any) -> list[Any]:
    """A valid 党员信息台账 row; keyword arguments override cells by header."""
    base = {
        "姓名": f"测试党员{n}",
        "身份证号": sid(n),
        "手机号": phone(n),
        "性别": "男",
        "出生日期": "1980-01-01",
        "党员类别": "正式党员",
        "入党日期": "2005-07-01",
        "户籍所在村": "城西村委会",
        "流动状态": "外出流动",
        "流向地": "北京市",
        "外出日期": "2020-03-01",
        "工作单位": f"建工集团第{n}项目部",
        "从事行业": "建筑业",
        "返乡创业意愿": "有意愿",
        "担任村干部意愿": "未确定",
    }
    base.update(cells)
    return [base[h] for h in MEMBER_HEADERS]


def host_row(n: int, **cells: Any) -> list[Any]:
    base = {
        "姓名": f"流入党员{n}",
        "身份证号": sid(n, region="510521"),
        "手机号": phone(500 + n),
        "性别": "",
        "出生日期": "",
        "户籍地": "四川省泸县",
        "所在城市": "北京",
        "工作单位": f"朝阳物流第{n}站",
        "报到日期": "2024-05-01",
    }
    base.update(cells)
    return [base[h] for h in HOST_HEADERS]


def xlsx_bytes(
    rows: Sequence[Sequence[Any]], *, title: str = "党员信息台账", before: Sequence[Any] = ()
) -> bytes:
    """rows[0] is the header. `before` rows (e.g. a title) go above it."""
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet.title = title
    for row in [*before, *rows]:
        sheet.append(list(row))
    for cells in sheet.iter_rows():
        for cell in cells:
            if isinstance(cell.value, str) and cell.value.startswith("="):
                cell.data_type = "s"  # text typed as '=…, not a formula
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def xls_bytes(rows: Sequence[Sequence[Any]], *, title: str = "党员信息台账") -> bytes:
    workbook = xlwt.Workbook(encoding="utf-8")
    sheet = workbook.add_sheet(title)
    date_style = xlwt.easyxf(num_format_str="YYYY-MM-DD")
    for r, row in enumerate(rows):
        for c, value in enumerate(row):
            if isinstance(value, dt.date):
                sheet.write(r, c, value, date_style)
            else:
                sheet.write(r, c, value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def csv_bytes(
    rows: Sequence[Sequence[Any]], *, encoding: str = "utf-8", bom: bool = False, sep: str = ","
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=sep, lineterminator="\r\n").writerows(rows)
    data = buffer.getvalue().encode(encoding)
    return (b"\xef\xbb\xbf" + data) if bom else data


def read_xlsx(content: bytes) -> openpyxl.Workbook:
    return openpyxl.load_workbook(io.BytesIO(content))

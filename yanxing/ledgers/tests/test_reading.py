"""Reading uploads: real .xlsx, .xls and .csv files, encodings, header rows, limits."""

from __future__ import annotations

import datetime as dt
import io
import zipfile
from typing import Any

import openpyxl
import pytest
from django.utils import translation

from yanxing.ledgers.kinds import MEMBERS
from yanxing.ledgers.reading import Limits, ReadError, decode_text, read_table

from .files import MEMBER_HEADERS, csv_bytes, member_row, sid, xls_bytes, xlsx_bytes

ROWS = [MEMBER_HEADERS, member_row(1), member_row(2, 姓名="张　三 ")]


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def read(data: bytes, name: str, **kwargs):
    return read_table(data, name, is_header=MEMBERS.is_header, **kwargs)


def test_xlsx_rows_numbers_and_cells() -> None:
    table = read(xlsx_bytes(ROWS), "台账.xlsx")
    assert (table.format, table.sheet, table.encoding, table.header_line) == (
        "xlsx",
        "党员信息台账",
        "",
        1,
    )
    assert table.headers == MEMBER_HEADERS
    assert [row.line for row in table.rows] == [2, 3]
    assert table.rows[0].values == [str(v) for v in member_row(1)]
    # Full-width and trailing spaces are trimmed at the edges, kept inside.
    assert table.rows[1].values[0] == "张 三"
    assert table.rows[0].numeric == frozenset()


def test_xlsx_numbers_dates_title_rows_and_blank_rows() -> None:
    rows: list[list[Any]] = [
        [*MEMBER_HEADERS[:3], "入党日期"],
        [None, None, None, None],
        ["王五", 1.1010519491231e17, 13912340001, dt.datetime(2001, 7, 1)],
        ["赵六", sid(6), "13912340006", dt.date(1999, 12, 31)],
    ]
    data = xlsx_bytes(rows, before=[["城西村党员信息台账（2025年）"], []])
    table = read(data, "t.XLSX")
    assert table.header_line == 3
    assert [row.line for row in table.rows] == [5, 6]
    first, second = table.rows
    assert first.values == ["王五", "110105194912310000", "13912340001", "2001-07-01"]
    assert first.numeric == frozenset({1, 2})
    assert second.values == ["赵六", sid(6), "13912340006", "1999-12-31"]
    assert second.numeric == frozenset()


def test_xlsx_first_sheet_with_a_header_is_read() -> None:
    workbook = openpyxl.Workbook()
    notes = workbook.active
    notes.title = "封面"
    notes.append(["党员信息台账"])
    data_sheet = workbook.create_sheet("名单")
    for row in ROWS:
        data_sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read(buffer.getvalue(), "a.xlsx")
    assert (table.sheet, len(table.rows)) == ("名单", 2)


def test_xls_file() -> None:
    rows: list[list[Any]] = [
        ["姓名", "身份证号", "手机号", "入党日期"],
        ["王五", sid(5), "13912340005", dt.date(2003, 5, 4)],
        ["赵六", 110105194912310021, 13912340006, "2004-01-02"],
    ]
    table = read(xls_bytes(rows), "old.xls")
    assert (table.format, table.sheet) == ("xls", "党员信息台账")
    assert [row.line for row in table.rows] == [2, 3]
    assert table.rows[0].values == ["王五", sid(5), "13912340005", "2003-05-04"]
    assert table.rows[0].numeric == frozenset()
    # xlwt stores numbers as doubles, as Excel does: the ID has lost its last digits.
    assert table.rows[1].values == ["赵六", "110105194912310016", "13912340006", "2004-01-02"]
    assert table.rows[1].numeric == frozenset({1, 2})


@pytest.mark.parametrize(
    ("encoding", "bom", "expected"),
    [
        ("utf-8", False, "UTF-8"),
        ("utf-8", True, "UTF-8 (BOM)"),
        ("gb18030", False, "GB18030"),
        ("utf-16", False, "UTF-16"),
    ],
)
def test_csv_encodings(encoding: str, bom: bool, expected: str) -> None:
    table = read(csv_bytes(ROWS, encoding=encoding, bom=bom), "台账.csv")
    assert (table.format, table.encoding) == ("csv", expected)
    assert table.headers == MEMBER_HEADERS
    assert table.rows[1].values[0] == "张 三"
    assert table.rows[0].values[7] == "城西村委会"


def test_csv_tab_separated_and_quoted_line_breaks() -> None:
    rows = [
        ["姓名", "身份证号", "工作单位"],
        ["王五", sid(5), "第一行\n第二行"],
        ["赵六", sid(6), "x"],
    ]
    table = read(csv_bytes(rows, sep="\t"), "a.csv")
    # Row numbers count records (what Excel shows), not physical lines.
    assert [(row.line, row.values[2]) for row in table.rows] == [(2, "第一行\n第二行"), (3, "x")]


def test_gb18030_is_not_mistaken_for_utf8() -> None:
    text, encoding = decode_text("姓名,户籍所在村\n王五,城西村委会\n".encode("gb18030"))
    assert encoding == "GB18030"
    assert text.startswith("姓名,户籍所在村")


def test_content_decides_the_format_not_the_name() -> None:
    table = read(xlsx_bytes(ROWS), "renamed.csv")
    assert table.format == "xlsx"
    table = read(xls_bytes(ROWS), "renamed.xlsx")
    assert table.format == "xls"


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"x", "a.txt", "只能上传 .xlsx、.xls 或 .csv 文件。"),
        (b"", "a.csv", "文件是空的。"),
        (
            b"\x81\x30\xff\xff",
            "a.csv",
            "无法识别 CSV 文件的编码，请在 Excel 中另存为“CSV UTF-8（逗号分隔）”后再上传。",
        ),
        (
            b"PK\x03\x04 broken",
            "a.xlsx",
            "无法读取这个 .xlsx 文件（文件已损坏或不是 Excel 文件），请用 Excel 另存后再上传。",
        ),
        (
            b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100,
            "a.xls",
            "无法读取这个 .xls 文件（文件已损坏或已加密），请用 Excel 另存为 .xlsx 后再上传。",
        ),
        (
            "备注\n随便写点什么\n".encode(),
            "a.csv",
            "在前 10 行中没有找到列名行（表头）。请使用下载的模板，保留第一行的列名。",
        ),
        (
            "姓名,身份证号\n".encode(),
            "a.csv",
            "文件中只有表头，没有数据行。",
        ),
    ],
)
def test_unreadable_files(data: bytes, name: str, message: str) -> None:
    with pytest.raises(ReadError) as caught:
        read(data, name)
    assert str(caught.value) == message


def test_file_size_limit() -> None:
    data = csv_bytes(ROWS)
    assert read(data, "a.csv", limits=Limits(max_bytes=len(data))).rows
    with pytest.raises(ReadError) as caught:
        read(data, "a.csv", limits=Limits(max_bytes=len(data) - 1))
    assert caught.value.code == "too_big"


def test_file_size_limit_message(settings) -> None:
    settings.LEDGER_IMPORT_MAX_BYTES = 1024 * 1024
    with pytest.raises(ReadError) as caught:
        read(b"x" * (1024 * 1024 + 1), "a.csv")
    assert str(caught.value) == "文件超过 1 MB，请拆分成几个文件分别导入。"


def test_row_limit_counts_data_rows_only() -> None:
    rows = [MEMBER_HEADERS] + [member_row(n) for n in range(1, 6)]
    blank_lines = csv_bytes(rows[:3]) + b"\r\n\r\n" + csv_bytes(rows[3:])
    assert len(read(blank_lines, "a.csv", limits=Limits(max_rows=5)).rows) == 5
    for data, name in ((csv_bytes(rows), "a.csv"), (xlsx_bytes(rows), "a.xlsx")):
        with pytest.raises(ReadError) as caught:
            read(data, name, limits=Limits(max_rows=4))
        assert str(caught.value) == ("数据超过 4 行（第 6 行已超出），请拆分成几个文件分别导入。")


def test_zip_bomb_is_refused_before_opening(monkeypatch) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        archive.writestr("xl/worksheets/sheet1.xml", b"\0" * (3 * 1024 * 1024))
    data = buffer.getvalue()
    assert len(data) < 20_000

    def never(*args, **kwargs):
        raise AssertionError("the workbook must not be opened")

    monkeypatch.setattr(openpyxl, "load_workbook", never)
    with pytest.raises(ReadError) as caught:
        read(data, "bomb.xlsx", limits=Limits(max_unpacked_bytes=2 * 1024 * 1024))
    assert str(caught.value) == (
        "这个 .xlsx 文件解压后超过 2 MB，不像是正常的台账，请检查文件或另存后再上传。"
    )


def test_unpacked_limit_default_and_setting(settings) -> None:
    data = xlsx_bytes(ROWS)
    assert read(data, "a.xlsx").rows
    settings.LEDGER_IMPORT_MAX_UNPACKED_BYTES = 1000
    with pytest.raises(ReadError) as caught:
        read(data, "a.xlsx")
    assert caught.value.code == "unpacked_too_big"


def test_without_header_test_the_first_row_is_the_header() -> None:
    table = read_table(csv_bytes([["a", "b"], ["1", "2"]]), "x.csv")
    assert (table.headers, table.rows[0].values) == (["a", "b"], ["1", "2"])


def test_error_messages_in_english() -> None:
    with translation.override("en"), pytest.raises(ReadError) as caught:
        read(b"", "a.csv")
    with translation.override("en"):
        assert str(caught.value) == "The file is empty."

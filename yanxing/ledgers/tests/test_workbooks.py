"""The template workbooks and the error workbook (contents, highlight, masking, access log)."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.utils import translation

from tests.conftest import World
from tests.scope_helpers import add_extra_staff
from yanxing.audit.models import AccessLog
from yanxing.core.exceptions import OutOfScope
from yanxing.ledgers import services
from yanxing.ledgers.kinds import HOST_ROSTER, MEMBERS
from yanxing.ledgers.models import ImportBatch
from yanxing.ledgers.reading import read_table
from yanxing.ledgers.workbooks import ERROR_FILL, template_workbook

from .files import MEMBER_HEADERS, member_row, phone, read_xlsx, sid, xlsx_bytes

pytestmark = pytest.mark.django_db
RED = ERROR_FILL.fgColor.rgb


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


def uploaded(world: World, rows: list[list[Any]], actor: Any = None) -> ImportBatch:
    batch = services.upload_batch(
        actor=actor or world.home_secretary,
        organization=world.village,
        kind="members",
        file_name="城西村台账.xlsx",
        data=xlsx_bytes(rows),
    )
    services.check_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    return batch


def test_members_template() -> None:
    workbook = read_xlsx(template_workbook(MEMBERS))
    assert workbook.sheetnames == ["党员信息台账", "说明", "选项"]
    sheet, notes, options = (workbook[name] for name in workbook.sheetnames)
    assert options.sheet_state == "hidden"
    assert [cell.value for cell in sheet[1]] == MEMBER_HEADERS
    assert sheet.freeze_panes == "A2"
    # ID and phone columns are text; dates have a date format.
    formats = {
        cell.value: sheet.column_dimensions[cell.column_letter].number_format for cell in sheet[1]
    }
    assert (formats["身份证号"], formats["手机号"]) == ("@", "@")
    assert (formats["出生日期"], formats["入党日期"], formats["外出日期"]) == ("yyyy-mm-dd",) * 3
    assert formats["姓名"] == "General"
    # Required columns stand out; every header explains itself in a comment.
    assert sheet["A1"].fill.fgColor.rgb != sheet["C1"].fill.fgColor.rgb
    assert sheet["B1"].comment.text.startswith("必填。18位居民身份证号")
    # Dropdowns: one list per enumeration, over the whole data area, values on 选项.
    lists = {
        str(v.sqref): v.formula1 for v in sheet.data_validations.dataValidation if v.type == "list"
    }
    assert lists == {
        "D2:D20001": "'选项'!$A$2:$A$3",
        "F2:F20001": "'选项'!$B$2:$B$3",
        "I2:I20001": "'选项'!$C$2:$C$3",
        "M2:M20001": "'选项'!$D$2:$D$14",
        "N2:N20001": "'选项'!$E$2:$E$5",
        "O2:O20001": "'选项'!$F$2:$F$5",
    }
    values = [[c.value for c in column if c.value] for column in options.iter_cols()]
    assert values[0] == ["性别", "男", "女"]
    assert values[1] == ["党员类别", "正式党员", "预备党员"]
    assert values[2] == ["流动状态", "在本地", "外出流动"]
    assert values[3][:4] == ["从事行业", "农、林、牧、渔业", "制造业", "建筑业"]
    assert values[4] == ["返乡创业意愿", "未了解", "有意愿", "无意愿", "未确定"]
    prompts = [v for v in sheet.data_validations.dataValidation if v.type is None]
    assert [str(v.sqref) for v in prompts] == ["B2:B20001", "C2:C20001"]
    text = " ".join(str(c.value) for row in notes.iter_rows() for c in row if c.value)
    assert "党员信息台账 填写说明" in text
    for header in MEMBER_HEADERS:
        assert header in text
    assert "一次最多 20000 行、文件不超过 10 MB" in text


def test_host_roster_template_and_settings(settings) -> None:
    settings.LEDGER_IMPORT_MAX_ROWS = 500
    workbook = read_xlsx(template_workbook(HOST_ROSTER))
    sheet = workbook["流入党员名单"]
    assert [c.value for c in sheet[1]] == [c.header for c in HOST_ROSTER.columns]
    lists = {str(v.sqref) for v in sheet.data_validations.dataValidation if v.type == "list"}
    assert lists == {"D2:D501"}


def test_a_filled_template_imports(world: World) -> None:
    workbook = read_xlsx(template_workbook(MEMBERS))
    sheet = workbook["党员信息台账"]
    sheet.append(member_row(1))
    buffer = io.BytesIO()
    workbook.save(buffer)
    table = read_table(buffer.getvalue(), "模板.xlsx", is_header=MEMBERS.is_header)
    assert (table.sheet, [r.line for r in table.rows]) == ("党员信息台账", [2])
    batch = services.upload_batch(
        actor=world.county_admin,
        organization=world.village,
        kind="members",
        file_name="模板.xlsx",
        data=buffer.getvalue(),
    )
    services.check_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.valid_rows, batch.failed_count) == (1, 0)


def test_error_workbook_holds_the_failed_rows(world: World) -> None:
    bad = sid(3)[:17] + ("1" if sid(3)[17] != "1" else "2")
    rows = [
        MEMBER_HEADERS,
        member_row(1),
        member_row(3, 身份证号=bad, 手机号="12345"),
        member_row(4, 姓名='=HYPERLINK("http://x")', 入党日期="去年"),
    ]
    batch = uploaded(world, rows)
    logged = AccessLog.objects.count()
    content = services.error_workbook(actor=world.home_secretary, batch=batch, ip="10.0.0.1")
    sheet = read_xlsx(content).active
    assert sheet.title == "党员信息台账"
    assert [c.value for c in sheet[1]] == [*MEMBER_HEADERS, "错误原因"]
    assert sheet.max_row == 3
    second = [c.value for c in sheet[2]]
    assert second[:-1] == [str(v) for v in member_row(3, 身份证号=bad, 手机号="12345")]
    assert second[-1] == (
        f"（原第 3 行）身份证号：校验位错误：最后一位应为 {sid(3)[17]}，请核对每一位数字。"
        "；手机号：应为11位、以1开头的数字。"
    )
    third = [c.value for c in sheet[3]]
    assert third[0] == '=HYPERLINK("http://x")'
    assert third[-1] == (
        "（原第 4 行）入党日期：无法识别的日期“去年”，请写成 2024-03-01 这样的格式。"
    )
    # Bad cells are filled red, the others are not.
    red = {
        (cell.row, cell.value)
        for row in sheet.iter_rows(min_row=2, max_col=len(MEMBER_HEADERS))
        for cell in row
        if cell.fill.fgColor.rgb == RED
    }
    assert red == {(2, bad), (2, "12345"), (3, "去年")}
    # Text stays text: the ID column is text formatted, a formula-like name is not a formula.
    assert sheet["B2"].number_format == "@" and sheet["B2"].data_type == "s"
    assert sheet["A3"].data_type == "s" and sheet["A3"].quotePrefix
    entry = AccessLog.objects.order_by("-id")[0]
    assert AccessLog.objects.count() == logged + 1
    assert (entry.action, entry.fields, entry.row_count, entry.reason) == (
        "export",
        "id_number,phone",
        2,
        "import errors, plain",
    )
    assert (entry.target_id, entry.organization, entry.ip) == (
        str(batch.pk),
        world.village,
        "10.0.0.1",
    )


def test_error_workbook_masking_by_reader(world: World) -> None:
    extra = add_extra_staff(world)
    rows = [MEMBER_HEADERS, member_row(5, 入党日期="去年")]
    batch = uploaded(world, rows, actor=world.county_admin)
    masked_id = sid(5)[:4] + "*" * 10 + sid(5)[-4:]
    cases = [
        (world.county_admin, sid(5), phone(5), "import errors, plain"),  # uploaded it
        (world.home_secretary, sid(5), phone(5), "import errors, plain"),  # may see sensitive
        (extra.village_staff, masked_id, "139****0005", "import errors, masked"),
    ]
    for reader, id_cell, phone_cell, reason in cases:
        sheet = read_xlsx(services.error_workbook(actor=reader, batch=batch)).active
        assert (sheet["B2"].value, sheet["C2"].value) == (id_cell, phone_cell)
        assert AccessLog.objects.order_by("-id")[0].reason == reason
    for outsider in (world.host_secretary, world.other_secretary, extra.village_viewer):
        with pytest.raises(OutOfScope):
            services.error_workbook(actor=outsider, batch=batch)


def test_fixed_error_workbook_imports(world: World) -> None:
    rows = [MEMBER_HEADERS, member_row(1), member_row(2, 入党日期="去年", 手机号="1")]
    batch = uploaded(world, rows)
    workbook = read_xlsx(services.error_workbook(actor=world.home_secretary, batch=batch))
    sheet = workbook.active
    sheet["G2"] = "2006-07-01"
    sheet["C2"] = phone(2)
    buffer = io.BytesIO()
    workbook.save(buffer)
    fixed = services.upload_batch(
        actor=world.home_secretary,
        organization=world.village,
        kind="members",
        file_name="城西村台账-错误行.xlsx",
        data=buffer.getvalue(),
    )
    services.check_batch(batch_id=fixed.pk)
    fixed.refresh_from_db()
    assert (fixed.valid_rows, fixed.failed_count, fixed.created_count) == (1, 0, 1)
    assert fixed.source["ignored"] == ["错误原因"]

"""The ledger import journey of a branch secretary: upload a file with errors, read the row
problems, download the error file, fix it, upload it again, confirm, read the summary. And
the progress panel that updates itself while a batch is being checked."""

from __future__ import annotations

import re
from pathlib import Path

import openpyxl
import pytest
from playwright.sync_api import Page, expect

from tests.conftest import World
from yanxing.ledgers import services
from yanxing.ledgers.models import ImportBatch
from yanxing.ledgers.tests.files import MEMBER_HEADERS, member_row, phone, sid, xlsx_bytes
from yanxing.members.models import Member

from .conftest import no_horizontal_scroll, staff_sign_in

pytestmark = pytest.mark.browser


def bad_check(n: int) -> str:
    number = sid(n)
    return number[:17] + ("1" if number[17] != "1" else "2")


def test_import_with_errors_fix_and_confirm(
    desktop_page: Page, live_world: World, shot, tmp_path: Path
) -> None:
    page = desktop_page
    staff_sign_in(page, "home_secretary")
    rows = [
        MEMBER_HEADERS,
        member_row(1),
        member_row(2, 身份证号=bad_check(2)),
        member_row(3, 手机号="1391234", 入党日期="去年七月"),
    ]
    original = tmp_path / "城西村党员台账.xlsx"
    original.write_bytes(xlsx_bytes(rows))

    page.locator("#sidebar-menu").get_by_role("link", name="台账导入").click()
    page.wait_for_url("**/ledgers/")
    expect(page.get_by_test_id("batch-table")).to_contain_text("还没有导入过台账。")
    shot(page, "1-list")

    page.get_by_test_id("upload-link").click()
    page.wait_for_url("**/ledgers/upload/")
    page.locator("#id_kind").select_option("members")
    page.locator("#id_organization").select_option(str(live_world.village.pk))
    page.locator("#id_file").set_input_files(str(original))
    shot(page, "2-upload")
    page.get_by_test_id("upload-submit").click()
    page.wait_for_url(re.compile(r"/ledgers/\d+/$"))

    issues = page.get_by_test_id("row-issue")
    expect(issues).to_have_text(
        [
            f"第 3 行 身份证号：校验位错误：最后一位应为 {sid(2)[17]}，请核对每一位数字。",
            "第 4 行 手机号：应为11位、以1开头的数字。",
            "第 4 行 入党日期：无法识别的日期“去年七月”，请写成 2024-03-01 这样的格式。",
        ]
    )
    expect(page.get_by_test_id("valid-rows")).to_have_text("1")
    expect(page.get_by_test_id("failed-rows")).to_have_text("2")
    expect(page.get_by_test_id("batch-status")).to_have_text("待确认")
    expect(page.locator("body")).not_to_contain_text(sid(1))
    shot(page, "3-preview")

    with page.expect_download() as download_info:
        page.get_by_test_id("download-errors").click()
    download = download_info.value
    assert download.suggested_filename == "城西村党员台账-错误行.xlsx"
    errors = tmp_path / "errors.xlsx"
    download.save_as(errors)
    workbook = openpyxl.load_workbook(errors)
    sheet = workbook.active
    assert [c.value for c in sheet[1]] == [*MEMBER_HEADERS, "错误原因"]
    assert [sheet.cell(row=r, column=1).value for r in (2, 3)] == ["测试党员2", "测试党员3"]
    assert sheet["B2"].fill.fgColor.rgb == "FFFFC7CE"
    # Fix what the 错误原因 column says and send the file back.
    sheet["B2"] = sid(2)
    sheet["C3"] = phone(3)
    sheet["G3"] = "2015-07-01"
    workbook.save(errors)
    first_batch = page.url

    page.goto("/ledgers/upload/")
    page.locator("#id_organization").select_option(str(live_world.village.pk))
    page.locator("#id_file").set_input_files(str(errors))
    page.get_by_test_id("upload-submit").click()
    page.wait_for_url(lambda url: bool(re.search(r"/ledgers/\d+/$", url)) and url != first_batch)
    expect(page.get_by_test_id("valid-rows")).to_have_text("2")
    expect(page.get_by_test_id("failed-rows")).to_have_text("0")
    expect(page.get_by_test_id("row-issues")).to_have_count(0)
    expect(page.get_by_test_id("expected")).to_contain_text("新增 2 · 更新 0 · 未变 0")
    shot(page, "4-fixed-preview")

    page.get_by_test_id("confirm-import").click()
    expect(page.get_by_test_id("batch-status")).to_have_text("已完成")
    expect(page.get_by_test_id("count-created")).to_have_text("2")
    expect(page.get_by_test_id("count-updated")).to_have_text("0")
    expect(page.get_by_test_id("count-unchanged")).to_have_text("0")
    expect(page.get_by_test_id("count-failed")).to_have_text("0")
    shot(page, "5-summary")
    assert set(
        Member.objects.filter(name__startswith="测试党员").values_list("name", flat=True)
    ) == {
        "测试党员2",
        "测试党员3",
    }

    # The first file still waits for confirmation: its good row goes in, the fixed rows are
    # now registered, so nothing is duplicated.
    page.goto(first_batch)
    page.get_by_test_id("confirm-import").click()
    expect(page.get_by_test_id("count-created")).to_have_text("1")
    expect(page.get_by_test_id("count-failed")).to_have_text("2")
    assert Member.objects.filter(name__startswith="测试党员").count() == 3

    page.goto("/ledgers/")
    table = page.get_by_test_id("batch-table")
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("新增 2 · 更新 0 · 未变 0 · 失败 0")
    shot(page, "6-list")


def test_preview_on_a_phone(phone_page: Page, live_world: World, shot, tmp_path: Path) -> None:
    page = phone_page
    staff_sign_in(page, "home_secretary")
    file = tmp_path / "台账.xlsx"
    file.write_bytes(
        xlsx_bytes([MEMBER_HEADERS, member_row(1), member_row(2, 身份证号=bad_check(2))])
    )
    page.goto("/ledgers/upload/")
    assert no_horizontal_scroll(page)
    page.locator("#id_organization").select_option(str(live_world.village.pk))
    page.locator("#id_file").set_input_files(str(file))
    page.get_by_test_id("upload-submit").click()
    expect(page.get_by_test_id("row-issue")).to_have_count(1)
    assert no_horizontal_scroll(page)
    shot(page, "1-preview")
    page.goto("/ledgers/")
    assert no_horizontal_scroll(page)
    shot(page, "2-list")


def test_progress_panel_updates_itself(desktop_page: Page, live_world: World, shot) -> None:
    page = desktop_page
    staff_sign_in(page, "home_secretary")
    # Uploaded, but its check has not run yet (as when the worker is busy).
    batch = services.upload_batch(
        actor=live_world.home_secretary,
        organization=live_world.village,
        kind="members",
        file_name="台账.xlsx",
        data=xlsx_bytes([MEMBER_HEADERS, member_row(1), member_row(2)]),
    )
    ImportBatch.objects.filter(pk=batch.pk).update(status="pending", progress=40)
    page.goto(f"/ledgers/{batch.pk}/")
    expect(page.get_by_test_id("batch-status")).to_have_text("校验中")
    expect(page.get_by_test_id("progress-percent")).to_have_text("40%")
    shot(page, "1-checking")
    services.check_batch(batch_id=batch.pk)
    # The panel polls every 2 seconds and reloads the page once the check is over.
    expect(page.get_by_test_id("valid-rows")).to_have_text("2", timeout=8_000)
    expect(page.get_by_test_id("batch-status")).to_have_text("待确认")
    shot(page, "2-checked")

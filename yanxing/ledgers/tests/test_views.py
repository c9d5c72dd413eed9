"""The import pages: upload, preview with row problems, confirm, summary, status partial,
downloads, and the pages in English."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from tests.conftest import World
from tests.test_i18n import untranslated, visible_text, world_data
from yanxing.ledgers.models import ImportBatch
from yanxing.members.models import Member

from .files import HOST_HEADERS, MEMBER_HEADERS, host_row, member_row, read_xlsx, sid, xlsx_bytes

pytestmark = pytest.mark.django_db
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def html(response: Any) -> str:
    return response.content.decode()


def post_file(client: Client, data: bytes, name: str = "台账.xlsx", **fields: Any) -> Any:
    payload = {"kind": "members", "full_list": "on", **fields}
    payload["file"] = SimpleUploadedFile(name, data)
    return client.post("/ledgers/upload/", payload)


@pytest.fixture
def admin(world: World, client_for) -> Client:
    return client_for("county_admin")


def test_upload_preview_confirm_summary(
    world: World, admin: Client, django_capture_on_commit_callbacks
) -> None:
    page = admin.get("/ledgers/upload/")
    assert page.status_code == 200
    assert 'href="/ledgers/template/members.xlsx"' in html(page)
    bad = sid(3)[:17] + ("1" if sid(3)[17] != "1" else "2")
    rows = [MEMBER_HEADERS, member_row(1), member_row(2), member_row(3, 身份证号=bad)]
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(admin, xlsx_bytes(rows), organization=world.village.pk)
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/ledgers/{batch.pk}/"

    preview = html(admin.get(response["Location"]))
    assert "第 4 行 身份证号：校验位错误" in preview
    assert 'data-testid="valid-rows">2<' in preview
    assert 'data-testid="failed-rows">1<' in preview
    assert "新增 2 · 更新 0 · 未变 0" in preview
    assert "确认导入 2 行" in preview
    assert f'href="/ledgers/{batch.pk}/errors.xlsx"' in preview
    assert bad not in preview and sid(1) not in preview

    errors = admin.get(f"/ledgers/{batch.pk}/errors.xlsx")
    assert errors.status_code == 200
    assert errors["Content-Type"] == XLSX
    assert "attachment" in errors["Content-Disposition"]
    assert read_xlsx(errors.content).active.max_row == 2

    with django_capture_on_commit_callbacks(execute=True):
        confirmed = admin.post(f"/ledgers/{batch.pk}/do/confirm/")
    assert confirmed.status_code == 302
    summary = html(admin.get(f"/ledgers/{batch.pk}/"))
    assert re.findall(r'data-testid="count-(\w+)">(\d+)<', summary) == [
        ("created", "2"),
        ("updated", "0"),
        ("unchanged", "0"),
        ("failed", "1"),
    ]
    assert "已确认，正在后台导入。" in summary
    assert Member.objects.count() == 5
    listing = html(admin.get("/ledgers/"))
    assert "新增 2 · 更新 0 · 未变 0 · 失败 1" in listing
    assert 'data-testid="batch-status">已完成<' in listing


def test_status_partial_polls_until_done(world: World, admin: Client) -> None:
    response = post_file(
        admin, xlsx_bytes([MEMBER_HEADERS, member_row(1)]), organization=world.village.pk
    )
    batch = ImportBatch.objects.get()
    assert response.status_code == 302
    # No on_commit here: the check has not run, as with a busy worker.
    page = html(admin.get(f"/ledgers/{batch.pk}/"))
    assert f'hx-get="/ledgers/{batch.pk}/status/"' in page
    assert '<meta http-equiv="refresh" content="5">' in page
    partial = admin.get(f"/ledgers/{batch.pk}/status/", HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert "HX-Refresh" not in partial
    assert 'hx-trigger="every 2s"' in html(partial)
    from yanxing.ledgers import services

    services.check_batch(batch_id=batch.pk)
    done = admin.get(f"/ledgers/{batch.pk}/status/", HTTP_HX_REQUEST="true")
    assert done["HX-Refresh"] == "true"
    assert "hx-trigger" not in html(done)
    assert "refresh" not in html(admin.get(f"/ledgers/{batch.pk}/"))


def test_upload_form_errors(world: World, admin: Client, settings) -> None:
    response = post_file(
        admin,
        xlsx_bytes([["姓名", "手机号"], ["王五", "13912340005"]]),
        organization=world.village.pk,
    )
    assert response.status_code == 400
    assert "缺少必填的列：身份证号。请使用下载的模板，保留第一行的列名。" in html(response)
    response = post_file(admin, b"x", name="a.docx", organization=world.village.pk)
    assert "只能上传 .xlsx、.xls 或 .csv 文件。" in html(response)
    response = post_file(
        admin, xlsx_bytes([MEMBER_HEADERS, member_row(1)]), organization=world.county.pk
    )
    assert response.status_code == 400
    assert "党员信息台账只能导入到你可以管理党员、并能接收组织关系的党组织" in html(response)
    settings.LEDGER_IMPORT_MAX_BYTES = 100
    response = post_file(admin, b"x" * 101, name="a.csv", organization=world.village.pk)
    assert response.status_code == 400
    assert "文件超过 100 B，请拆分成几个文件分别导入。" in html(response)
    # A request body far past the limit is refused before it is read.
    response = post_file(admin, b"x" * 70_000, name="a.csv", organization=world.village.pk)
    assert response.status_code == 413
    assert "文件超过 100 B，请拆分成几个文件分别导入。" in html(response)
    assert ImportBatch.objects.count() == 0


def test_housekeeping_command(
    world: World, admin: Client, django_capture_on_commit_callbacks
) -> None:
    import datetime as dt
    from io import StringIO

    from django.core.management import call_command
    from django.utils import timezone

    with django_capture_on_commit_callbacks(execute=True):
        post_file(admin, xlsx_bytes([MEMBER_HEADERS, member_row(1)]), organization=world.village.pk)
    eight_days_ago = timezone.now() - dt.timedelta(days=8)
    ImportBatch.objects.update(created_at=eight_days_ago)
    out = StringIO()
    call_command("ledgers_housekeeping", stdout=out)
    assert out.getvalue() == "stalled 0, expired 1, pruned 0\n"
    assert ImportBatch.objects.get().status == "cancelled"
    page = html(admin.get(f"/ledgers/{ImportBatch.objects.get().pk}/"))
    assert "超过 7 天没有确认导入，已自动取消，上传的数据已删除。" in page


def test_cancel(world: World, admin: Client, django_capture_on_commit_callbacks) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        post_file(admin, xlsx_bytes([MEMBER_HEADERS, member_row(1)]), organization=world.village.pk)
    batch = ImportBatch.objects.get()
    admin.post(f"/ledgers/{batch.pk}/do/cancel/")
    page = html(admin.get(f"/ledgers/{batch.pk}/"))
    assert "已取消，没有导入，上传的数据已删除。" in page
    assert admin.get(f"/ledgers/{batch.pk}/errors.xlsx").status_code == 404
    assert admin.post(f"/ledgers/{batch.pk}/do/explode/").status_code == 404


def test_template_downloads(admin: Client) -> None:
    for kind, sheet in (("members", "党员信息台账"), ("host_roster", "流入党员名单")):
        response = admin.get(f"/ledgers/template/{kind}.xlsx")
        assert response.status_code == 200
        assert response["Content-Type"] == XLSX
        assert read_xlsx(response.content).sheetnames[0] == sheet
    assert admin.get("/ledgers/template/other.xlsx").status_code == 404


def test_failed_batch_page(
    world: World, admin: Client, django_capture_on_commit_callbacks, monkeypatch
) -> None:
    from yanxing.members import services as member_services

    with django_capture_on_commit_callbacks(execute=True):
        post_file(admin, xlsx_bytes([MEMBER_HEADERS, member_row(1)]), organization=world.village.pk)
    batch = ImportBatch.objects.get()

    def crash(**kwargs: Any):
        raise RuntimeError("boom")

    monkeypatch.setattr(member_services, "create_member", crash)
    with django_capture_on_commit_callbacks(execute=True):
        admin.post(f"/ledgers/{batch.pk}/do/confirm/")
    page = html(admin.get(f"/ledgers/{batch.pk}/"))
    assert 'data-testid="batch-status">失败<' in page
    assert "导入失败，已全部撤销，没有写入任何数据。" in page
    assert "原因：导入过程中出错：RuntimeError: boom" in page
    english = Client()
    english.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    english.force_login(world.county_admin, backend="django.contrib.auth.backends.ModelBackend")
    page = html(english.get(f"/ledgers/{batch.pk}/"))
    assert "Reason: Error during the import: RuntimeError: boom" in page


def test_pages_in_english(world: World, django_capture_on_commit_callbacks) -> None:
    client = Client()
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.force_login(world.county_admin, backend="django.contrib.auth.backends.ModelBackend")
    rows = [MEMBER_HEADERS, member_row(1), member_row(2, 手机号="123", 入党日期="2999-01-01")]
    with django_capture_on_commit_callbacks(execute=True):
        post_file(client, xlsx_bytes(rows), name="ledger.xlsx", organization=world.village.pk)
    hosts = [HOST_HEADERS, host_row(1), host_row(2)]
    with django_capture_on_commit_callbacks(execute=True):
        post_file(
            client,
            xlsx_bytes(hosts, title="list"),
            name="hosts.xlsx",
            kind="host_roster",
            organization=world.host.pk,
        )
    members_batch, host_batch = ImportBatch.objects.order_by("id")
    data = [*world_data(world), "党员信息台账"]  # the sheet's name in the uploaded file
    pages = {
        "list": "/ledgers/",
        "upload": "/ledgers/upload/",
        "preview": f"/ledgers/{members_batch.pk}/",
        "host preview": f"/ledgers/{host_batch.pk}/",
    }
    for name, url in pages.items():
        page = html(client.get(url))
        assert not untranslated(visible_text(page), data), name
    preview = html(client.get(pages["preview"]))
    assert "Row 3, Mobile number: A mobile number has 11 digits starting with 1." in preview
    assert "Row 3, Joined the Party on: The date is later than today; please check it." in preview
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/ledgers/{members_batch.pk}/do/confirm/")
        client.post(f"/ledgers/{host_batch.pk}/do/confirm/")
    for url in (pages["preview"], pages["host preview"]):
        assert not untranslated(visible_text(html(client.get(url))), data), url

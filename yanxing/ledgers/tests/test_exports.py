"""Member list exports, CSV and .xlsx: formula-safe cells, masking, text columns, access log."""

from __future__ import annotations

import csv
import io

import openpyxl
import pytest
from django.test import Client

from tests.conftest import ID_AWAY, ID_LOCAL, PHONE_AWAY, World
from yanxing.audit.models import AccessLog
from yanxing.members import services as member_services
from yanxing.members.exports import HEADERS, members_csv, members_xlsx
from yanxing.members.models import Member

pytestmark = pytest.mark.django_db

EMPLOYERS = ["=1+2", "+86 公司", "-分公司", "@总部", "\t制表符", "\r回车", "正常单位"]


def csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:])))


def xlsx_sheet(content: bytes):
    return openpyxl.load_workbook(io.BytesIO(content)).active


@pytest.fixture
def risky(world: World) -> list[Member]:
    members = []
    for n, employer in enumerate(EMPLOYERS):
        first17 = f"14082219900101{n:02d}1"
        from yanxing.core.idnumber import check_char

        member, _ = member_services.create_member(
            actor=world.county_admin,
            home_org=world.village,
            name=f'=HYPERLINK("x"){n}' if n == 0 else f"测试{n}",
            id_number=first17 + check_char(first17),
            employer=employer,
        )
        members.append(member)
    return members


def test_formula_cells_are_neutralised_in_both_formats(world: World, risky: list[Member]) -> None:
    queryset = Member.objects.filter(pk__in=[m.pk for m in risky]).order_by("pk")
    rows = csv_rows(
        members_csv(actor=world.county_admin, queryset=queryset, plain=False, ip=None).content
    )
    sheet = xlsx_sheet(
        members_xlsx(actor=world.county_admin, queryset=queryset, plain=False, ip=None).content
    )
    expected_employers = [
        "'=1+2",
        "'+86 公司",
        "'-分公司",
        "'@总部",
        "'\t制表符",
        "'\r回车",
        "正常单位",
    ]
    assert [r[9] for r in rows[1:]] == expected_employers
    assert rows[1][0] == '\'=HYPERLINK("x")0'
    xlsx_values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert xlsx_values[0] == [str(h) for h in HEADERS]
    # (XML reads a carriage return back as a line feed; the apostrophe is what matters.)
    assert [r[9] for r in xlsx_values[1:]] == [e.replace("\r", "\n") for e in expected_employers]
    assert xlsx_values[1][0] == '\'=HYPERLINK("x")0'
    # No cell of the workbook is a formula; every data cell is text.
    assert {c.data_type for row in sheet.iter_rows(min_row=2) for c in row if c.value} == {"s"}


def test_masking_and_text_columns(world: World, client_for) -> None:
    client = client_for("county_admin")
    masked = xlsx_sheet(client.get("/members/export.xlsx", {"q": "王建国"}).content)
    assert [c.value for c in masked[2]][:3] == ["王建国", "1408**********0711", "139****0001"]
    assert masked.column_dimensions["B"].number_format == "@"
    assert masked.column_dimensions["C"].number_format == "@"
    assert masked["B2"].number_format == "@"
    plain = xlsx_sheet(client.get("/members/export.xlsx", {"q": "王建国", "plain": "1"}).content)
    assert [c.value for c in plain[2]][:3] == ["王建国", ID_AWAY, PHONE_AWAY]
    # The host branch sees its member but may not reveal: masked even when asking for plain.
    host = client_for("host_secretary")
    sheet = xlsx_sheet(host.get("/members/export.xlsx", {"plain": "1"}).content)
    assert [[c.value for c in row][:3] for row in sheet.iter_rows(min_row=2)] == [
        ["王建国", "1408**********0711", "139****0001"]
    ]
    response = client.get("/members/export.xlsx")
    assert response["Content-Type"] == (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    assert response["Content-Disposition"].startswith('attachment; filename="members-')
    assert response["Content-Disposition"].endswith('.xlsx"')
    text = response.content
    assert ID_LOCAL.encode() not in text


def test_every_export_is_in_the_access_log(world: World, client_for) -> None:
    client: Client = client_for("home_secretary")
    before = AccessLog.objects.count()
    client.get("/members/export.csv")
    client.get("/members/export.xlsx", {"plain": "1"})
    client.get("/members/export.xlsx", {"mobility_status": "away"})
    entries = list(AccessLog.objects.order_by("id")[before:])
    assert [(e.action, e.fields, e.row_count, e.reason) for e in entries] == [
        ("export", "masked", 2, "masked"),
        ("export", "id_number,phone", 2, "plain"),
        ("export", "masked", 1, "masked"),
    ]
    assert {e.actor for e in entries} == {world.home_secretary}
    assert {e.organization for e in entries} == {world.village}


def test_member_list_offers_both_exports(world: World, client_for) -> None:
    html = client_for("county_admin").get("/members/", {"q": "王"}).content.decode()
    assert 'href="/members/export.csv?q=%E7%8E%8B"' in html
    assert 'href="/members/export.xlsx?q=%E7%8E%8B"' in html
    assert "导出 Excel" in html
    viewer_html = client_for("member_user").get("/members/")
    assert viewer_html.status_code == 302

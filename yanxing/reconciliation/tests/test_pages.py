"""The pages and the report: the .xlsx export's contents and masking, the review form, the
English interface."""

from __future__ import annotations

import io
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from tests import conftest
from tests.conftest import ID_AWAY, PHONE_AWAY, World
from tests.test_i18n import english_client, untranslated, visible_text, world_data
from yanxing.audit.models import AccessLog
from yanxing.ledgers.models import HostRecord

from ..exports import PAIR_HEADERS, RECORD_HEADERS
from ..models import Merge, Run, RunConflict, RunPair, RunRecord
from .scenario import ID_CHEN, ID_SUN, Scenario, build, finished_run

world = conftest.world
pytestmark = pytest.mark.django_db


@pytest.fixture
def scenario(world: World) -> Scenario:
    return build(world)


def signed_in(user: Any, client: Client | None = None) -> Client:
    client = client or Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def sheet_rows(book: Any, title: str) -> list[tuple[Any, ...]]:
    return list(book[title].iter_rows(values_only=True))


def test_export(scenario: Scenario) -> None:
    w = scenario.world
    # A list row whose employer is a spreadsheet formula: it must arrive as text.
    HostRecord.objects.filter(pk=scenario.rec_sun.pk).update(
        employer='=HYPERLINK("http://example.invalid","x")'
    )
    run = finished_run(scenario)
    response = signed_in(w.county_admin).get(f"/reconciliation/{run.pk}/export.xlsx")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert response["Content-Disposition"] == (
        f'attachment; filename="reconciliation-{run.quarter}-{run.pk}.xlsx"'
    )
    book = load_workbook(io.BytesIO(response.content))
    assert book.sheetnames == [
        "概况",
        "已对上",
        "待复核",
        "外出未纳管",
        "来源不明的报到",
        "疑似重复",
        "信息不一致",
    ]
    summary = sheet_rows(book, "概况")
    assert summary[:2] == [
        ("季度", run.quarter, None, None),
        ("流出地党组织", w.county.name, None, None),
    ]
    assert summary[3:9] == [
        ("已对上", 5, None, None),
        ("待复核", 2, None, None),
        ("外出未纳管", 5, None, None),
        ("来源不明的报到", 3, None, None),
        ("疑似重复", 1, None, None),
        ("信息不一致", 5, None, None),
    ]
    matched = sheet_rows(book, "已对上")
    assert list(matched[0]) == PAIR_HEADERS
    assert sorted((r[0], r[4], r[10], r[11]) for r in matched[1:]) == [
        ("吴敏", "吴敏", "同一档案", "已确认"),
        ("周杰", "周杰", "建议匹配", "待确认"),
        ("张志强", "章志强", "建议匹配", "待确认"),
        ("王建国", "王建国", "同一档案", "已确认"),
        ("陈伟", "陈伟", "建议匹配", "待确认"),
    ]
    away = next(r for r in matched[1:] if r[0] == "王建国")
    assert away[1:4] == ("1408**********0711", "139****0001", w.village.name)
    assert away[12] == "同一党员档案"
    homophone = next(r for r in matched[1:] if r[0] == "张志强")
    assert "姓名同音（张志强/章志强）" in homophone[12]
    assert sorted(r[0] for r in sheet_rows(book, "待复核")[1:]) == ["马文斌", "黄海"]
    unmanaged = sheet_rows(book, "外出未纳管")
    assert list(unmanaged[0]) == RECORD_HEADERS
    assert sorted(r[0] for r in unmanaged[1:]) == ["刘芳", "刘芳", "赵丽", "马文斌", "黄海"]
    unknown = sheet_rows(book, "来源不明的报到")
    assert sorted(r[0] for r in unknown[1:]) == ["孙明", "马文武", "黄梅"]
    formula = next(r for r in unknown[1:] if r[0] == "孙明")
    assert formula[7] == '\'=HYPERLINK("http://example.invalid","x")'
    assert book["来源不明的报到"]["B2"].number_format == "@"
    duplicates = sheet_rows(book, "疑似重复")
    assert [r[1] for r in duplicates[1:]] == ["流出地台账", "流出地台账"]
    conflicts = sheet_rows(book, "信息不一致")
    assert sorted(r[3:7] for r in conflicts[1:]) == [
        ("姓名", "张志强", "章志强", "未处理"),
        ("工作单位", "顺达物流有限公司", "华兴电子科技有限公司", "未处理"),
        ("手机号", "139****0011", "138****0021", "未处理"),
        ("手机号", "139****0012", "138****0022", "未处理"),
        ("流动状态", "在本地", "在流入地参加组织生活", "未处理"),
    ]
    # No plain identifier anywhere; no cell is a formula.
    cells = [
        cell
        for sheet in book
        for row in sheet.iter_rows()
        for cell in row
        if cell.value is not None
    ]
    text = "\n".join(str(cell.value) for cell in cells)
    for plain in (ID_AWAY, PHONE_AWAY, ID_CHEN, ID_SUN, "13800000022", "13912340011"):
        assert plain not in text
    assert all(cell.data_type != "f" for cell in cells)
    # The export is in the access log.
    entry = AccessLog.objects.order_by("-id")[0]
    assert (entry.action, entry.target_id, entry.row_count, entry.fields, entry.org_path) == (
        "export",
        str(run.pk),
        # 5 + 2 + 5 + 3 + 2 duplicate rows + 5 conflicts
        22,
        "masked",
        w.county.path,
    )


def test_review_on_the_page(scenario: Scenario) -> None:
    w = scenario.world
    run = finished_run(scenario)
    client = signed_in(w.county_admin)
    page = client.get(f"/reconciliation/{run.pk}/", {"list": "review"})
    html = page.content.decode()
    ma = RunPair.objects.get(run=run, right__name="马文武")
    huang = RunPair.objects.get(run=run, right__name="黄梅")
    assert f'data-testid="select-{ma.pk}"' in html and f'data-testid="confirm-{ma.pk}"' in html
    assert 'data-testid="bulk-confirm"' in html
    next_url = f"/reconciliation/{run.pk}/?list=review"
    response = client.post(
        f"/reconciliation/{run.pk}/do/bulk/",
        {"decision": "confirm", "pairs": [ma.pk, huang.pk], "next": next_url},
    )
    assert (response.status_code, response["Location"]) == (302, next_url)
    assert set(
        RunPair.objects.filter(run=run, status="confirmed").values_list("pk", flat=True)
    ) >= {
        ma.pk,
        huang.pk,
    }
    # No pair ticked: a message, nothing changes.
    response = client.post(
        f"/reconciliation/{run.pk}/do/bulk/", {"decision": "reject", "next": next_url}, follow=True
    )
    assert "请先勾选要处理的配对。" in response.content.decode()
    # An off-site "next" is not followed.
    response = client.post(
        f"/reconciliation/pairs/{ma.pk}/do/confirm/", {"next": "https://example.invalid/"}
    )
    assert response["Location"] == f"/reconciliation/{run.pk}/"
    # Undo from the merge list.
    merge = Merge.objects.get(pair=ma)
    merges = client.get(f"/reconciliation/{run.pk}/", {"list": "merges"}).content.decode()
    assert f'data-testid="undo-{merge.pk}"' in merges
    client.post(f"/reconciliation/merges/{merge.pk}/do/undo/")
    assert Merge.objects.get(pk=merge.pk).is_undone
    assert HostRecord.objects.get(pk=scenario.rec_ma.pk).member_id is None


def test_filters(scenario: Scenario) -> None:
    w = scenario.world
    run = finished_run(scenario)
    client = signed_in(w.county_admin)

    def shown(**params: str) -> list[str]:
        response = client.get(f"/reconciliation/{run.pk}/", params)
        return sorted(str(row.pk) for row in response.context["rows"])

    pairs = RunPair.objects.filter(run=run)
    assert shown(list="matched", decision="identity") == sorted(
        str(p.pk) for p in pairs.filter(decision="identity")
    )
    assert shown(list="matched", q="章志强") == [str(pairs.get(right__name="章志强").pk)]
    assert shown(list="unknown", q="孙") == [str(RunRecord.objects.get(run=run, name="孙明").pk)]
    # Conflicts of matched pairs (a review pair's show once it is confirmed).
    conflicts = RunConflict.objects.filter(run=run).exclude(pair__decision="review")
    assert shown(list="conflicts", field="phone") == sorted(
        str(c.pk) for c in conflicts.filter(field="phone")
    )
    assert shown(list="conflicts", resolution="pending") == sorted(str(c.pk) for c in conflicts)
    assert shown(list="duplicates", side="right") == []
    assert len(shown(list="duplicates", q="刘芳")) == 1
    assert shown(list="no-such-list") == shown(list="matched")


def test_pages_in_english(scenario: Scenario) -> None:
    w = scenario.world
    run = finished_run(scenario)
    confirm = RunPair.objects.get(run=run, right__name="陈伟")
    signed_in(w.county_admin).post(f"/reconciliation/pairs/{confirm.pk}/do/confirm/")
    client = signed_in(w.county_admin, english_client())
    data = sorted(
        set(world_data(w))
        | {
            value
            for record in RunRecord.objects.filter(run=run)
            for value in (record.name, record.home_village, record.city, record.employer)
            if value
        }
        | {reason for pair in RunPair.objects.filter(run=run) for reason in pair.reasons}
        | {
            value
            for c in RunConflict.objects.filter(run=run)
            for value in (c.left_value, c.right_value)
        }
        | {scenario.zhou.name, "城西村党支部", "甲县驻北京流动党员党支部", "陈伟"},
        key=len,
        reverse=True,
    )
    pages = [
        "/reconciliation/",
        "/reconciliation/new/",
        "/",
        *(
            f"/reconciliation/{run.pk}/?list={name}"
            for name in (
                "matched",
                "review",
                "unmanaged",
                "unknown",
                "duplicates",
                "conflicts",
                "merges",
            )
        ),
    ]
    for path in pages:
        response = client.get(path)
        assert response.status_code == 200, path
        html = response.content.decode()
        assert '<html lang="en">' in html
        assert untranslated(visible_text(html), data) == [], path
    html = client.get(f"/reconciliation/{run.pk}/").content.decode()
    assert "Unknown report-ins" in html and "Sign-off" in html
    queued = Run.objects.create(home_org=w.county, quarter=run.quarter, progress=10, stage="home")
    html = client.get(f"/reconciliation/{queued.pk}/").content.decode()
    assert "Reading the home ledger" in html
    assert untranslated(visible_text(html), data) == []

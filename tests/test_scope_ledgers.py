"""Who may see what in the ledgers app: every ledger URL and the member Excel export, every
persona, the allowed and the cross-organization case; ImportBatch and HostRecord querysets.

A batch belongs to the organization it imports into. It is visible (list, pages, downloads,
actions) to whoever holds ``ledgers.import`` over that organization, and answers 404 exactly
like a missing batch to everyone else. Import targets are limited to the actor's scope in the
form's choices, and a forged POST is refused.
"""

from __future__ import annotations

import io
from collections.abc import Callable
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import HttpResponse
from django.test import Client

from yanxing.access.roles import Action
from yanxing.audit.models import AccessLog
from yanxing.core.exceptions import OutOfScope
from yanxing.ledgers import selectors, services
from yanxing.ledgers.models import HostRecord, ImportBatch
from yanxing.ledgers.tests.files import (
    HOST_HEADERS,
    MEMBER_HEADERS,
    host_row,
    member_row,
    xlsx_bytes,
)
from yanxing.members.models import Member

from .conftest import PERSONAS, World
from .scope_helpers import (
    EXTRA_STAFF,
    MAY_EXPORT,
    MAY_REVEAL,
    MEMBERS,
    MEMBERS_SEEN,
    NON_STAFF,
    Extra,
    actor,
    add_extra_staff,
    assert_no_leak,
    assert_turned_away,
    body,
    check_member_export,
    member,
    missing_pk,
    not_found_body,
    org_ids,
    select_options,
    signed_in,
)

EVERYONE = PERSONAS + list(EXTRA_STAFF)

URL_TESTS: dict[str, list[str]] = {
    "ledgers:list": ["test_batch_list"],
    "ledgers:upload": ["test_upload_choices", "test_upload_forged_organization"],
    "ledgers:template": ["test_template_download"],
    "ledgers:detail": ["test_batch_pages"],
    "ledgers:status": ["test_batch_pages"],
    "ledgers:action": ["test_batch_actions"],
    "ledgers:errors": ["test_error_workbook_download"],
    "members:export_xlsx": ["test_member_export_xlsx", "test_member_export_xlsx_search_and_plain"],
}

#: ledgers.import: the organizations each persona may import into (active, in scope).
IMPORT_ORGS: dict[str, set[str]] = {
    "county_admin": {"county", "township", "village", "host"},
    "home_secretary": {"village"},
    "host_secretary": {"host"},
    "other_secretary": {"other_branch"},
    "village_staff": {"village"},
    "other_admin": {"other_county", "other_branch"},
    "village_viewer": set(),
    "host_auditor": set(),
}
#: The batches of the ``batches`` fixture (keyed by their organization) each persona sees.
BATCHES_SEEN: dict[str, set[str]] = {
    "county_admin": {"village", "township", "host"},
    "home_secretary": {"village"},
    "host_secretary": {"host"},
    "other_secretary": {"other_branch"},
    "village_staff": {"village"},
    "other_admin": {"other_branch"},
    "village_viewer": set(),
    "host_auditor": set(),
}
#: members.export (same as the CSV export).
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.fixture
def extra(world: World) -> Extra:
    return add_extra_staff(world)


@pytest.fixture
def login(world: World, extra: Extra) -> Callable[[str], Client]:
    return lambda persona: signed_in(world, extra, persona)


def checked_batch(world: World, who: Any, org_key: str, kind: str) -> ImportBatch:
    """A checked batch with one good row and one bad row (so it has an error workbook)."""
    if kind == "members":
        rows = [MEMBER_HEADERS, member_row(len(org_key)), member_row(40, 手机号="1")]
    else:
        rows = [HOST_HEADERS, host_row(len(org_key)), host_row(41, 报到日期="明年")]
    batch = services.upload_batch(
        actor=who,
        organization=getattr(world, org_key),
        kind=kind,
        file_name=f"{org_key}.xlsx",
        data=xlsx_bytes(rows),
    )
    services.check_batch(batch_id=batch.pk)
    batch.refresh_from_db()
    assert (batch.status, batch.valid_rows, batch.failed_count) == ("validated", 1, 1)
    return batch


@pytest.fixture
def batches(world: World, extra: Extra) -> dict[str, ImportBatch]:
    return {
        "village": checked_batch(world, world.home_secretary, "village", "members"),
        "township": checked_batch(world, world.county_admin, "township", "members"),
        "host": checked_batch(world, world.host_secretary, "host", "host_roster"),
        "other_branch": checked_batch(world, world.other_secretary, "other_branch", "members"),
    }


def assert_404_like_missing(client: Client, path: str, missing: str, method: str = "get") -> None:
    response = getattr(client, method)(path)
    other = getattr(client, method)(missing)
    assert response.status_code == 404
    assert not_found_body(response, path) == not_found_body(other, missing)


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("ledgers.ImportBatch")
@pytest.mark.parametrize("persona", EVERYONE)
def test_batch_list(world: World, batches: dict, login: Any, persona: str) -> None:
    response = login(persona).get("/ledgers/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/ledgers/")
        return
    assert response.status_code == 200
    expected = {batches[key].pk for key in BATCHES_SEEN[persona]}
    assert {b.pk for b in response.context["object_list"]} == expected
    html = body(response)
    for key, batch in batches.items():
        assert (f"{key}.xlsx" in html) == (key in BATCHES_SEEN[persona])
    assert_no_leak(html, world, persona)
    # The sidebar offers the import pages only to those who may import.
    assert ('href="/ledgers/"' in html) == bool(IMPORT_ORGS[persona])


@pytest.mark.scope_test("ledgers.ImportBatch")
@pytest.mark.parametrize("persona", EVERYONE)
def test_batch_pages(world: World, batches: dict, login: Any, persona: str) -> None:
    client = login(persona)
    missing = missing_pk(ImportBatch)
    for key, batch in batches.items():
        for suffix in ("", "status/"):
            path = f"/ledgers/{batch.pk}/{suffix}"
            if persona in NON_STAFF:
                assert_turned_away(client.get(path), persona, path)
            elif key in BATCHES_SEEN[persona]:
                response = client.get(path)
                assert response.status_code == 200
                assert_no_leak(body(response), world, persona)
            else:
                assert_404_like_missing(client, path, f"/ledgers/{missing}/{suffix}")
    if persona not in NON_STAFF and BATCHES_SEEN[persona]:
        key = sorted(BATCHES_SEEN[persona])[0]
        page = body(client.get(f"/ledgers/{batches[key].pk}/"))
        assert "第 3 行" in page


@pytest.mark.scope_test("ledgers.ImportBatch")
@pytest.mark.parametrize("persona", EVERYONE)
def test_batch_actions(
    world: World, batches: dict, login: Any, persona: str, django_capture_on_commit_callbacks
) -> None:
    client = login(persona)
    missing = missing_pk(ImportBatch)
    # Out-of-scope batches first: a success message would otherwise show on the next page.
    ordered = sorted(batches.items(), key=lambda item: item[0] in BATCHES_SEEN.get(persona, ()))
    for key, batch in ordered:
        confirm, cancel = (f"/ledgers/{batch.pk}/do/{verb}/" for verb in ("confirm", "cancel"))
        if persona in NON_STAFF:
            assert_turned_away(client.post(confirm), persona, confirm)
        elif key not in BATCHES_SEEN[persona]:
            for path, verb in ((confirm, "confirm"), (cancel, "cancel")):
                assert_404_like_missing(client, path, f"/ledgers/{missing}/do/{verb}/", "post")
        elif key == "township":
            with django_capture_on_commit_callbacks(execute=True):
                assert client.post(confirm).status_code == 302
        else:
            assert client.post(cancel).status_code == 302
        batch.refresh_from_db()
        expected = "validated"
        if persona not in NON_STAFF and key in BATCHES_SEEN[persona]:
            expected = "done" if key == "township" else "cancelled"
        assert batch.status == expected, (persona, key)
    assert Member.objects.filter(home_org=world.township).count() == (
        1 if persona == "county_admin" else 0
    )


@pytest.mark.scope_test("ledgers.ImportBatch")
@pytest.mark.scope_test("audit.AccessLog")
@pytest.mark.parametrize("persona", EVERYONE)
def test_error_workbook_download(world: World, batches: dict, login: Any, persona: str) -> None:
    client = login(persona)
    missing = missing_pk(ImportBatch)
    for key, batch in batches.items():
        path = f"/ledgers/{batch.pk}/errors.xlsx"
        logged = AccessLog.objects.count()
        if persona in NON_STAFF:
            assert_turned_away(client.get(path), persona, path)
        elif key in BATCHES_SEEN[persona]:
            response = client.get(path)
            assert response.status_code == 200
            assert response["Content-Type"] == XLSX
            sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
            assert sheet.max_row == 2
            entry = AccessLog.objects.order_by("-id")[0]
            assert (entry.action, entry.target_id, entry.row_count) == ("export", str(batch.pk), 1)
            assert entry.organization_id == batch.organization_id
            assert AccessLog.objects.count() == logged + 1
            continue
        else:
            assert_404_like_missing(client, path, f"/ledgers/{missing}/errors.xlsx")
        assert AccessLog.objects.count() == logged


@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_upload_choices(world: World, login: Any, persona: str) -> None:
    response = login(persona).get("/ledgers/upload/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/ledgers/upload/")
        return
    if not IMPORT_ORGS[persona]:
        assert response.status_code == 404
        return
    assert response.status_code == 200
    options = select_options(body(response), "organization")
    assert {int(pk) for pk in options} == org_ids(world, IMPORT_ORGS[persona])
    assert_no_leak(body(response), world, persona)


@pytest.mark.scope_test("ledgers.ImportBatch")
@pytest.mark.scope_test("orgs.Organization")
@pytest.mark.parametrize("persona", EVERYONE)
def test_upload_forged_organization(
    world: World, login: Any, persona: str, django_capture_on_commit_callbacks
) -> None:
    client = login(persona)
    for key in ("village", "host", "other_branch", "township"):
        org = getattr(world, key)
        for kind, rows in (
            ("members", [MEMBER_HEADERS, member_row(7)]),
            ("host_roster", [HOST_HEADERS, host_row(7)]),
        ):
            data = {
                "kind": kind,
                "organization": org.pk,
                "file": SimpleUploadedFile("a.xlsx", xlsx_bytes(rows)),
            }
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post("/ledgers/upload/", data)
            if persona in NON_STAFF:
                assert_turned_away(response, persona, "/ledgers/upload/")
            elif not IMPORT_ORGS[persona]:
                assert response.status_code == 404
            elif key in IMPORT_ORGS[persona]:
                assert response.status_code == 302, (persona, key, kind)
            else:
                assert response.status_code == 400
                assert "organization" in response.context["form"].errors
    created = set(ImportBatch.objects.values_list("organization_id", "kind"))
    allowed = IMPORT_ORGS.get(persona, set()) & {"village", "host", "other_branch", "township"}
    assert created == {
        (getattr(world, key).pk, kind) for key in allowed for kind in ("members", "host_roster")
    }


@pytest.mark.scope_test("ledgers.ImportBatch")
@pytest.mark.parametrize("persona", EVERYONE)
def test_template_download(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for kind in ("members", "host_roster"):
        path = f"/ledgers/template/{kind}.xlsx"
        response = client.get(path)
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
        elif IMPORT_ORGS[persona]:
            assert response.status_code == 200
            assert response["Content-Type"] == XLSX
        else:
            assert response.status_code == 404


# --------------------------------------------------------------------------------------------
# Querysets and services
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("ledgers.ImportBatch")
def test_import_batches_are_scoped(world: World, extra: Extra, batches: dict) -> None:
    for persona, seen in BATCHES_SEEN.items():
        user = actor(world, extra, persona)
        visible = set(ImportBatch.objects.visible_to(user, Action.LEDGERS_IMPORT))
        assert visible == {batches[key] for key in seen}, persona
        assert set(selectors.batches_for(user)) == visible
    for persona in NON_STAFF:
        assert not ImportBatch.objects.visible_to(world.persona(persona), Action.LEDGERS_IMPORT)


@pytest.mark.scope_test("ledgers.ImportBatch")
def test_services_refuse_other_organizations(world: World, extra: Extra, batches: dict) -> None:
    foreign = {
        "home_secretary": ["host", "other_branch", "township"],
        "host_secretary": ["village", "other_branch"],
        "other_secretary": ["village", "host"],
        "village_viewer": ["village"],
    }
    for persona, keys in foreign.items():
        user = actor(world, extra, persona)
        for key in keys:
            batch = batches[key]
            for call in (services.confirm_batch, services.cancel_batch, services.error_workbook):
                with pytest.raises(OutOfScope):
                    call(actor=user, batch=batch)
            with pytest.raises(OutOfScope):
                services.upload_batch(
                    actor=user,
                    organization=batch.organization,
                    kind="host_roster",
                    file_name="a.xlsx",
                    data=xlsx_bytes([HOST_HEADERS, host_row(1)]),
                )
    assert {b.status for b in ImportBatch.objects.all()} == {"validated"}


@pytest.mark.scope_test("ledgers.HostRecord")
def test_host_records_are_scoped(world: World, extra: Extra, batches: dict) -> None:
    services.confirm_batch(actor=world.host_secretary, batch=batches["host"])
    services.run_import(batch_id=batches["host"].pk)
    other = checked_batch(world, extra.other_admin, "other_branch", "host_roster")
    services.confirm_batch(actor=extra.other_admin, batch=other)
    services.run_import(batch_id=other.pk)
    by_org = {r.organization_id: r for r in HostRecord.objects.all()}
    assert set(by_org) == {world.host.pk, world.other_branch.pk}
    host, foreign = by_org[world.host.pk], by_org[world.other_branch.pk]
    expected = {
        "county_admin": {host},
        "home_secretary": set(),
        "host_secretary": {host},
        "other_secretary": {foreign},
        "village_viewer": set(),
        "village_staff": set(),
        "host_auditor": {host},
        "other_admin": {foreign},
        "member_user": set(),
        "anonymous": set(),
    }
    for persona, records in expected.items():
        user = actor(world, extra, persona)
        assert set(selectors.host_records_for(user)) == records, persona
        assert set(HostRecord.objects.visible_to(user, Action.MEMBERS_VIEW)) == records
        importable = set(HostRecord.objects.visible_to(user, Action.LEDGERS_IMPORT))
        assert importable == (records if persona != "host_auditor" else set()), persona


# --------------------------------------------------------------------------------------------
# Member list export as .xlsx
# --------------------------------------------------------------------------------------------


def xlsx_rows(response: HttpResponse) -> list[list[str]]:
    assert response["Content-Type"] == XLSX
    sheet = openpyxl.load_workbook(io.BytesIO(response.content)).active
    return [["" if c.value is None else str(c.value) for c in row] for row in sheet.iter_rows()]


def xlsx_rows_and_text(response: HttpResponse) -> tuple[list[list[str]], str]:
    rows = xlsx_rows(response)
    return rows, " ".join(" ".join(r) for r in rows)


@pytest.mark.scope_test("members.Member")
@pytest.mark.scope_test("audit.AccessLog")
@pytest.mark.parametrize("persona", EVERYONE)
def test_member_export_xlsx(world: World, login: Any, persona: str) -> None:
    rows = check_member_export(
        world, login(persona), persona, "/members/export.xlsx", xlsx_rows_and_text
    )
    if rows is not None:
        assert rows[0][:3] == ["姓名", "身份证号", "手机号"]


@pytest.mark.scope_test("members.Member")
@pytest.mark.parametrize("persona", sorted(MAY_EXPORT))
def test_member_export_xlsx_search_and_plain(world: World, login: Any, persona: str) -> None:
    client = login(persona)
    for key in MEMBERS:
        m = Member.objects.get(pk=member(world, key).pk)
        expected = [m.name] if key in MEMBERS_SEEN[persona] else []
        for term in (m.name, m.id_number, m.phone):
            rows = xlsx_rows(client.get("/members/export.xlsx", {"q": term}))
            assert [r[0] for r in rows[1:]] == expected, f"{persona} q={term}"
    plain = client.get("/members/export.xlsx", {"plain": "1"})
    by_name = {r[0]: r for r in xlsx_rows(plain)[1:]}
    for key in MEMBERS_SEEN[persona]:
        m = Member.objects.get(pk=member(world, key).pk)
        shown = (
            (m.id_number, m.phone) if key in MAY_REVEAL[persona] else (m.id_masked, m.phone_masked)
        )
        assert (by_name[m.name][1], by_name[m.name][2]) == shown
    assert set(by_name) == {member(world, k).name for k in MEMBERS_SEEN[persona]}
    entry = AccessLog.objects.order_by("-id")[0]
    assert (entry.action, entry.reason, entry.row_count) == (
        "export",
        "plain",
        len(MEMBERS_SEEN[persona]),
    )

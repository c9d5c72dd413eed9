"""Import batches end to end through the services: upload → check → confirm → import.

Covers creates and updates through the member services, idempotent re-import, all-or-nothing
failure, row-level refusals, host lists with deactivation, cancel, stalls and expiry, and the
encryption of what is kept.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.db import connection, connections
from django.utils import timezone, translation

from tests.conftest import ID_LOCAL, ID_OTHER, PHONE_LOCAL, World
from yanxing.audit.models import Event
from yanxing.core.crypto import blind_index
from yanxing.core.exceptions import BusinessRuleError, OutOfScope
from yanxing.ledgers import importers, services, storage
from yanxing.ledgers.messages import RowIssue
from yanxing.ledgers.models import HostRecord, ImportBatch, ImportPayload
from yanxing.ledgers.progress import live_progress
from yanxing.members import services as member_services
from yanxing.members.models import Member

from .files import (
    HOST_HEADERS,
    MEMBER_HEADERS,
    csv_bytes,
    host_row,
    member_row,
    phone,
    sid,
    xlsx_bytes,
)

pytestmark = pytest.mark.django_db
Status = ImportBatch.Status


@pytest.fixture(autouse=True)
def chinese():
    with translation.override("zh-hans"):
        yield


@pytest.fixture
def upload(world: World, django_capture_on_commit_callbacks) -> Callable[..., ImportBatch]:
    def run(data: bytes, *, actor: Any = None, org: Any = None, kind: str = "members", **kw):
        with django_capture_on_commit_callbacks(execute=True):
            batch = services.upload_batch(
                actor=actor or world.county_admin,
                organization=org or (world.village if kind == "members" else world.host),
                kind=kind,
                file_name=kw.pop("name", "台账.xlsx"),
                data=data,
                **kw,
            )
        batch.refresh_from_db()
        return batch

    return run


@pytest.fixture
def confirm(world: World, django_capture_on_commit_callbacks) -> Callable[..., ImportBatch]:
    def run(batch: ImportBatch, actor: Any = None) -> ImportBatch:
        with django_capture_on_commit_callbacks(execute=True):
            services.confirm_batch(actor=actor or world.county_admin, batch=batch)
        batch.refresh_from_db()
        return batch

    return run


def local_row(**cells: Any) -> list[Any]:
    """m_local (李秀英) as her home ledger has her, with cells left empty by default."""
    row = dict.fromkeys(MEMBER_HEADERS, "")
    row.update({"姓名": "李秀英", "身份证号": ID_LOCAL, "手机号": PHONE_LOCAL})
    row.update(cells)
    return [row[h] for h in MEMBER_HEADERS]


def issues(batch: ImportBatch) -> list[str]:
    return [str(RowIssue.from_json(data)) for data in batch.row_errors]


def member_events() -> list[str]:
    return list(
        Event.objects.filter(verb__startswith="member.")
        .order_by("id")
        .values_list("verb", flat=True)
    )


def test_members_ledger_creates_and_updates(world: World, upload, confirm) -> None:
    rows = [
        MEMBER_HEADERS,
        member_row(1),
        member_row(2, 党员类别="预备党员"),
        local_row(工作单位="县供销社"),
    ]
    events_before = Event.objects.count()
    batch = upload(xlsx_bytes(rows))
    assert batch.status == Status.VALIDATED
    assert (batch.total_rows, batch.valid_rows, batch.failed_count) == (3, 3, 0)
    assert (batch.created_count, batch.updated_count, batch.unchanged_count) == (2, 1, 0)
    assert batch.progress == 100
    # The preview writes nothing to the registry.
    assert Member.objects.count() == 3

    batch = confirm(batch)
    assert batch.status == Status.DONE
    assert (batch.created_count, batch.updated_count, batch.unchanged_count) == (2, 1, 0)
    assert (batch.failed_count, batch.valid_rows, batch.progress) == (0, 3, 100)
    assert batch.started_at is not None and batch.finished_at is not None
    first = Member.objects.get(id_hash=member_services.id_hash(sid(1)))
    assert (first.name, first.home_org, first.phone, first.category) == (
        "测试党员1",
        world.village,
        phone(1),
        "full",
    )
    assert (first.home_division_id, first.destination_id) == ("140822100201", "110000000000")
    assert (first.mobility_status, first.left_on) == ("away", dt.date(2020, 3, 1))
    assert (first.joined_on, first.employer, first.industry) == (
        dt.date(2005, 7, 1),
        "建工集团第1项目部",
        "E",
    )
    assert (first.wish_return_business, first.wish_village_cadre) == ("yes", "undecided")
    assert (first.sex, first.birth_date) == ("M", dt.date(1980, 1, 1))
    second = Member.objects.get(id_hash=member_services.id_hash(sid(2)))
    assert second.category == "probationary"
    local = Member.objects.get(pk=world.m_local.pk)
    # Only the filled-in cell changed; empty cells kept what was there.
    assert (local.employer, local.phone, local.mobility_status) == (
        "县供销社",
        PHONE_LOCAL,
        "local",
    )
    verbs = list(Event.objects.order_by("id").values_list("verb", flat=True)[events_before:])
    assert verbs == [
        "ledgers.uploaded",
        "ledgers.import_confirmed",
        "member.created",
        "member.created",
        "member.updated",
        "member.whereabouts_changed",
        "ledgers.imported",
    ]
    imported = Event.objects.get(verb="ledgers.imported")
    assert imported.data == {
        "created": 2,
        "updated": 1,
        "unchanged": 0,
        "failed": 0,
        "deactivated": 0,
    }
    assert imported.organization == world.village
    assert imported.summary == "导入党员信息台账：新增 2，更新 1，未变 0，失败 0"
    # Nothing failed, so nothing of the file is kept.
    assert not ImportPayload.objects.filter(batch=batch).exists()


def test_reimporting_the_same_file_changes_nothing(world: World, upload, confirm) -> None:
    data = csv_bytes(
        [MEMBER_HEADERS, member_row(1), member_row(2), local_row(流动状态="在本地")], bom=True
    )
    confirm(upload(data, name="台账.csv"))
    history = Member.history.count()
    events = member_events()
    stamps = dict(Member.objects.values_list("pk", "updated_at"))

    again = upload(data, name="台账.csv")
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    again = confirm(again)
    assert again.status == Status.DONE
    assert (again.created_count, again.updated_count, again.unchanged_count) == (0, 0, 3)
    assert again.failed_count == 0
    assert Member.history.count() == history
    assert member_events() == events
    assert dict(Member.objects.values_list("pk", "updated_at")) == stamps


def test_rows_with_problems_are_skipped_and_reported(world: World, upload, confirm) -> None:
    bad = sid(3)[:17] + ("1" if sid(3)[17] != "1" else "2")
    rows = [
        MEMBER_HEADERS,
        member_row(1),
        member_row(3, 身份证号=bad),
        member_row(4, 手机号="12345"),
        member_row(1, 姓名="重复的人"),
        member_row(5, 身份证号=ID_OTHER, 性别="", 出生日期=""),
    ]
    batch = upload(xlsx_bytes(rows))
    assert (batch.valid_rows, batch.failed_count, batch.created_count) == (1, 4, 1)
    assert issues(batch) == [
        f"第 3 行 身份证号：校验位错误：最后一位应为 {sid(3)[17]}，请核对每一位数字。",
        "第 4 行 手机号：应为11位、以1开头的数字。",
        "第 5 行 身份证号：与第 2 行是同一人，同一人只能出现一次，请删除重复的行。",
        "第 6 行 身份证号：该身份证号已由其他党组织登记，不能在这里导入。如需转入，请联系其组织关系所在党组织办理转接。",
    ]
    batch = confirm(batch)
    assert (batch.created_count, batch.failed_count) == (1, 4)
    # The failed rows stay (encrypted) for the error workbook; the imported one does not.
    kept = storage.load_rows(batch)
    assert kept is not None
    assert [row.line for row in kept.rows] == [3, 4, 5, 6]


def test_member_of_another_visible_organization(world: World, upload) -> None:
    batch = upload(xlsx_bytes([MEMBER_HEADERS, local_row()]), org=world.township)
    assert issues(batch) == [
        "第 2 行 身份证号：该党员的组织关系在“城西村党支部”，不在所选党组织。转接组织关系请在党员页面办理。"
    ]


def test_away_cells_of_a_member_at_home_are_not_imported(world: World, upload, confirm) -> None:
    batch = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1, 流动状态="在本地")]))
    assert batch.valid_rows == 1
    assert issues(batch) == [
        "第 2 行 流向地：流动状态为“在本地”，本列未导入。",
        "第 2 行 外出日期：流动状态为“在本地”，本列未导入。",
    ]
    confirm(batch)
    member = Member.objects.get(id_hash=member_services.id_hash(sid(1)))
    assert (member.mobility_status, member.destination, member.left_on) == ("local", None, None)


def test_a_crash_mid_import_writes_nothing(world: World, upload, confirm, monkeypatch) -> None:
    rows = [
        MEMBER_HEADERS,
        member_row(1),
        member_row(2),
        local_row(工作单位="县供销社"),
        member_row(3),
    ]
    batch = upload(xlsx_bytes(rows))
    members = set(Member.objects.values_list("pk", "updated_at"))
    history = Member.history.count()
    events = member_events()
    real_create = member_services.create_member
    calls = {"n": 0}

    def create_then_crash(**kwargs: Any):
        calls["n"] += 1
        if calls["n"] == 3:
            raise RuntimeError("disk full")
        return real_create(**kwargs)

    monkeypatch.setattr(member_services, "create_member", create_then_crash)
    batch = confirm(batch)
    assert calls["n"] == 3  # two members were created, then the third call failed
    assert batch.status == Status.FAILED
    assert batch.failure_reason == (
        "导入过程中出错：RuntimeError: disk full / Error during the import: RuntimeError: disk full"
    )
    assert set(Member.objects.values_list("pk", "updated_at")) == members
    assert Member.history.count() == history
    assert member_events() == events
    assert not Event.objects.filter(verb="ledgers.imported").exists()
    assert Event.objects.get(verb="ledgers.import_failed").target_id == str(batch.pk)
    assert not ImportPayload.objects.filter(batch=batch).exists()
    # Running the task again does nothing: the batch is no longer waiting.
    services.run_import(batch_id=batch.pk)
    assert Member.objects.count() == len(members)


def test_a_row_the_member_service_refuses_fails_alone(
    world: World, upload, confirm, monkeypatch
) -> None:
    batch = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1), local_row(工作单位="县供销社")]))

    def refuse(**kwargs: Any):
        raise ValidationError({"phone": "该手机号已停用。 / That number is out of service."})

    monkeypatch.setattr(member_services, "update_member", refuse)
    batch = confirm(batch)
    assert batch.status == Status.DONE
    assert (batch.created_count, batch.updated_count, batch.failed_count) == (1, 0, 1)
    assert issues(batch) == ["第 3 行 手机号：该手机号已停用。"]
    assert Member.objects.filter(id_hash=member_services.id_hash(sid(1))).exists()


def test_a_member_out_of_reach_fails_alone(world: World, upload, confirm, monkeypatch) -> None:
    batch = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1), local_row(工作单位="县供销社")]))

    def moved(**kwargs: Any):
        raise OutOfScope()

    monkeypatch.setattr(member_services, "update_member", moved)
    batch = confirm(batch)
    assert (batch.status, batch.created_count, batch.failed_count) == (Status.DONE, 1, 1)
    assert issues(batch) == [
        "第 3 行 身份证号：你已无权修改这位党员（可能刚转到其他党组织），本行未导入。"
    ]


def test_upload_refusals(world: World, upload) -> None:
    with pytest.raises(ValidationError) as caught:
        upload(xlsx_bytes([["姓名", "手机号"], ["王五", "13912340005"]]))
    assert caught.value.message_dict == {
        "file": ["缺少必填的列：身份证号。请使用下载的模板，保留第一行的列名。"]
    }
    with pytest.raises(ValidationError) as caught:
        upload(xlsx_bytes([["姓名", "身份证号", "身份证号码"], ["王五", sid(5), sid(5)]]))
    assert caught.value.message_dict == {"file": ["列名重复：身份证号码。"]}
    with pytest.raises(BusinessRuleError) as refused:
        upload(xlsx_bytes([MEMBER_HEADERS, member_row(1)]), org=world.county)
    assert refused.value.messages == ["县委组织部不能接收组织关系，请选择党支部、党总支或党委。"]
    with pytest.raises(OutOfScope):
        upload(xlsx_bytes([MEMBER_HEADERS, member_row(1)]), actor=world.other_secretary)
    with pytest.raises(OutOfScope):
        upload(xlsx_bytes([MEMBER_HEADERS, member_row(1)]), actor=world.host_secretary)
    assert ImportBatch.objects.count() == 0


def test_confirm_rules(world: World, upload, confirm) -> None:
    batch = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1, 手机号="1")]))
    assert batch.valid_rows == 0
    with pytest.raises(BusinessRuleError) as caught:
        confirm(batch)
    assert caught.value.messages == ["没有通过校验的行，无法导入。请修改文件后重新上传。"]
    batch = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1)]))
    with pytest.raises(OutOfScope):
        confirm(batch, actor=world.host_secretary)
    with pytest.raises(OutOfScope):
        confirm(batch, actor=world.other_secretary)
    confirm(batch, actor=world.home_secretary)
    with pytest.raises(BusinessRuleError) as caught:
        confirm(batch)
    assert caught.value.messages == ["这个批次现在不能确认导入。"]


def test_cancel_drops_the_rows(world: World, upload) -> None:
    batch = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1)]))
    assert ImportPayload.objects.filter(batch=batch).exists()
    with pytest.raises(OutOfScope):
        services.cancel_batch(actor=world.other_secretary, batch=batch)
    services.cancel_batch(actor=world.home_secretary, batch=batch)
    batch.refresh_from_db()
    assert batch.status == Status.CANCELLED
    assert not ImportPayload.objects.filter(batch=batch).exists()
    assert Event.objects.filter(verb="ledgers.cancelled", target_id=str(batch.pk)).count() == 1
    with pytest.raises(BusinessRuleError):
        services.cancel_batch(actor=world.home_secretary, batch=batch)


def test_kept_rows_are_encrypted_and_problems_hold_no_id_numbers(world: World, upload) -> None:
    bad = sid(3)[:17] + ("1" if sid(3)[17] != "1" else "2")
    batch = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1), member_row(3, 身份证号=bad)]))
    with connection.cursor() as cursor:
        cursor.execute("SELECT content FROM ledgers_importpayload WHERE batch_id = %s", [batch.pk])
        (raw,) = cursor.fetchone()
    assert sid(1) not in raw and phone(1) not in raw and "测试党员1" not in raw
    kept = storage.load_rows(batch)
    assert kept is not None and kept.rows[0].values[1] == sid(1)
    stored = repr(list(ImportBatch.objects.filter(pk=batch.pk).values()))
    for secret in (sid(1), bad, phone(1), phone(3)):
        assert secret not in stored


# --------------------------------------------------------------------------------------------
# 流入党员名单
# --------------------------------------------------------------------------------------------


def test_host_roster_import_deactivation_and_reactivation(world: World, upload, confirm) -> None:
    full = [HOST_HEADERS, host_row(1), host_row(2), host_row(3, 身份证号="")]
    batch = confirm(upload(xlsx_bytes(full), kind="host_roster"))
    assert (batch.status, batch.created_count, batch.deactivated_count) == (Status.DONE, 3, 0)
    records = {r.name: r for r in HostRecord.objects.filter(organization=world.host)}
    first = records["流入党员1"]
    number = sid(1, region="510521")
    assert (first.id_number, first.id_hash) == (number, member_services.id_hash(number))
    assert first.record_key == first.id_hash
    assert (first.id_masked, first.phone_masked) == ("5105**********" + number[-4:], "139****0501")
    assert (first.sex, first.birth_date, first.city) == ("M", dt.date(1980, 1, 1), "北京")
    assert (first.reported_on, first.is_active) == (dt.date(2024, 5, 1), True)
    third = records["流入党员3"]
    assert third.record_key == blind_index(f"流入党员3|{phone(503)}", importers.NAME_PHONE_PURPOSE)
    assert (third.id_number, third.id_hash, third.sex) == ("", "", "")

    # A new full list: 2 changed its employer, 3 is gone.
    smaller = [HOST_HEADERS, host_row(1), host_row(2, 工作单位="顺义仓库")]
    batch = upload(xlsx_bytes(smaller), kind="host_roster")
    assert (batch.updated_count, batch.unchanged_count, batch.deactivated_count) == (1, 1, 1)
    batch = confirm(batch)
    assert (batch.created_count, batch.updated_count, batch.unchanged_count) == (0, 1, 1)
    assert batch.deactivated_count == 1
    active = dict(HostRecord.objects.values_list("name", "is_active"))
    assert active == {"流入党员1": True, "流入党员2": True, "流入党员3": False}
    assert HostRecord.objects.get(name="流入党员2").employer == "顺义仓库"

    # The same list again: nothing to do, nothing deactivated.
    again = confirm(upload(xlsx_bytes(smaller), kind="host_roster"))
    assert (again.updated_count, again.unchanged_count, again.deactivated_count) == (0, 2, 0)
    # 3 is back.
    back = confirm(upload(xlsx_bytes(full), kind="host_roster"))
    assert (back.created_count, back.updated_count, back.unchanged_count) == (0, 2, 1)
    assert HostRecord.objects.get(name="流入党员3").is_active
    assert HostRecord.objects.count() == 3


def test_host_roster_failed_rows_keep_missing_records(world: World, upload, confirm) -> None:
    confirm(upload(xlsx_bytes([HOST_HEADERS, host_row(1), host_row(2)]), kind="host_roster"))
    bad = [HOST_HEADERS, host_row(1), host_row(4, 身份证号="1.10105E+17", 手机号="")]
    batch = upload(xlsx_bytes(bad), kind="host_roster")
    assert batch.deactivation_skipped and batch.deactivated_count == 0
    batch = confirm(batch)
    assert (batch.unchanged_count, batch.failed_count, batch.deactivated_count) == (1, 1, 0)
    assert batch.deactivation_skipped
    assert HostRecord.objects.filter(is_active=True).count() == 2


def test_partial_lists_never_deactivate(world: World, upload, confirm) -> None:
    confirm(upload(xlsx_bytes([HOST_HEADERS, host_row(1), host_row(2)]), kind="host_roster"))
    partial = upload(xlsx_bytes([HOST_HEADERS, host_row(1)]), kind="host_roster", full_list=False)
    assert (partial.full_list, partial.deactivated_count) == (False, 0)
    # An error workbook sent back (it has 错误原因) is never taken for the whole list.
    returned = [[*HOST_HEADERS, "错误原因"], [*host_row(2), "（原第 3 行）…"]]
    batch = upload(xlsx_bytes(returned), kind="host_roster")
    assert (batch.full_list, batch.source["error_workbook"]) == (False, True)
    assert batch.source["ignored"] == ["错误原因"]
    confirm(batch)
    assert HostRecord.objects.filter(is_active=True).count() == 2


def test_host_roster_duplicates(world: World, upload) -> None:
    rows = [
        HOST_HEADERS,
        host_row(1),
        host_row(1, 姓名="同一人"),
        host_row(5, 身份证号=""),
        host_row(5, 身份证号=""),
    ]
    batch = upload(xlsx_bytes(rows), kind="host_roster")
    assert issues(batch) == [
        "第 3 行 身份证号：与第 2 行是同一人，同一人只能出现一次，请删除重复的行。",
        "第 5 行 手机号：与第 4 行是同一人，同一人只能出现一次，请删除重复的行。",
    ]


# --------------------------------------------------------------------------------------------
# Stalls, expiry, progress
# --------------------------------------------------------------------------------------------


def test_a_stalled_job_fails_the_batch(world: World) -> None:
    batch = services.upload_batch(
        actor=world.county_admin,
        organization=world.village,
        kind="members",
        file_name="a.xlsx",
        data=xlsx_bytes([MEMBER_HEADERS, member_row(1)]),
    )  # no on_commit: the check never runs, like a worker that is not running
    assert services.fail_if_stalled(batch=batch).status == Status.PENDING
    old = timezone.now() - services.STALL_AFTER - dt.timedelta(minutes=1)
    ImportBatch.objects.filter(pk=batch.pk).update(created_at=old, heartbeat_at=old)
    batch.refresh_from_db()
    batch = services.fail_if_stalled(batch=batch)
    assert batch.status == Status.FAILED
    assert batch.failure_reason == services.STALLED
    assert not ImportPayload.objects.filter(batch=batch).exists()


def test_expiry(world: World, upload, confirm) -> None:
    waiting = upload(xlsx_bytes([MEMBER_HEADERS, member_row(1)]))
    done = confirm(upload(xlsx_bytes([MEMBER_HEADERS, member_row(2), member_row(3, 手机号="1")])))
    assert ImportPayload.objects.filter(batch=done).exists()
    assert services.expire_batches() == {"stalled": 0, "expired": 0, "pruned": 0}
    later = timezone.now() + services.KEEP_ERROR_ROWS + dt.timedelta(days=1)
    assert services.expire_batches(now=later) == {"stalled": 0, "expired": 1, "pruned": 1}
    waiting.refresh_from_db()
    assert (waiting.status, waiting.failure_reason) == (Status.CANCELLED, services.EXPIRED)
    assert not ImportPayload.objects.exists()


def test_progress_is_visible_while_the_import_runs(
    world: World, upload, confirm, monkeypatch
) -> None:
    rows = [MEMBER_HEADERS] + [member_row(n) for n in range(1, 11)]
    batch = upload(xlsx_bytes(rows))
    seen: list[int] = []
    real_apply = importers.MemberImporter.apply

    def watch(self, plan, report):
        def spy(done: int) -> None:
            report(done)
            running = ImportBatch.objects.get(pk=batch.pk)
            if connection.vendor == "postgresql":
                # Another connection, as the status page would read it.
                other = connections.create_connection("default")
                try:
                    with other.cursor() as cursor:
                        cursor.execute(
                            "SELECT progress FROM ledgers_importbatch WHERE id = %s", [batch.pk]
                        )
                        found = cursor.fetchone()
                finally:
                    other.close()
                seen.append(found[0] if found else -1)
            else:
                seen.append(live_progress(running)[0])

        return real_apply(self, plan, spy)

    monkeypatch.setattr(importers.MemberImporter, "apply", watch)
    monkeypatch.setattr("yanxing.ledgers.progress.INTERVAL", 0)
    confirm(batch)
    if connection.vendor == "postgresql":
        # The test's own transaction hides the batch row from other connections; the
        # transactional test below checks PostgreSQL.
        assert seen == [-1] * 10
    else:
        assert seen == [50 + 5 * n for n in range(1, 11)]


@pytest.mark.django_db(transaction=True)
def test_progress_on_committed_batches(monkeypatch) -> None:
    from tests.conftest import build_world

    world = build_world()
    batch = services.upload_batch(
        actor=world.county_admin,
        organization=world.village,
        kind="members",
        file_name="a.xlsx",
        data=xlsx_bytes([MEMBER_HEADERS] + [member_row(n) for n in range(1, 5)]),
    )
    batch.refresh_from_db()
    assert batch.status == Status.VALIDATED  # autocommit: the check ran at once
    seen: list[int] = []
    real_apply = importers.MemberImporter.apply

    def watch(self, plan, report):
        def spy(done: int) -> None:
            report(done)
            other = connections.create_connection("default")
            try:
                with other.cursor() as cursor:
                    cursor.execute(
                        "SELECT status, progress FROM ledgers_importbatch WHERE id = %s",
                        [batch.pk],
                    )
                    status, progress = cursor.fetchone()
            finally:
                other.close()
            running = ImportBatch(pk=batch.pk, status=status, progress=progress)
            seen.append(live_progress(running)[0])

        return real_apply(self, plan, spy)

    monkeypatch.setattr(importers.MemberImporter, "apply", watch)
    monkeypatch.setattr("yanxing.ledgers.progress.INTERVAL", 0)
    services.confirm_batch(actor=world.county_admin, batch=batch)
    batch.refresh_from_db()
    assert batch.status == Status.DONE
    assert seen == [50 + 50 * n // 4 for n in range(1, 5)]

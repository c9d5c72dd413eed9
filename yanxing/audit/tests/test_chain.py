"""The audit hash chains and the maintenance command (verify, purge with a retention floor)."""

from __future__ import annotations

import datetime as dt
import io
import itertools

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from tests import conftest
from tests.conftest import World
from yanxing.audit.models import AccessLog, ChainHead, Event
from yanxing.audit.services import (
    EXTRA_FIELDS,
    record_access,
    record_digest,
    record_event,
    verify_chain,
)
from yanxing.members import services as member_services

# Shared fixtures from tests/conftest.py (that conftest covers only tests/).
world = conftest.world

pytestmark = pytest.mark.django_db


def make_events(count: int) -> list[Event]:
    return [
        record_event(actor=None, verb="test.step", summary=f"step {n}", data={"n": n})
        for n in range(count)
    ]


def rewrite_chain(model, ages: dict[int, dt.timedelta]) -> None:
    """Give rows older timestamps and re-link the whole chain consistently (old but genuine rows)."""
    prev = ""
    now = timezone.now()
    for record in model.objects.order_by("id"):
        if record.pk in ages:
            record.created_at = now - ages[record.pk]
        record.prev_hash = prev
        record.hash = record_digest(record, EXTRA_FIELDS[model])
        model.objects.filter(pk=record.pk).update(
            created_at=record.created_at, prev_hash=prev, hash=record.hash
        )
        prev = record.hash
    ChainHead.objects.filter(name=model.__name__).update(last_hash=prev)


class TestChain:
    def test_links(self) -> None:
        events = make_events(4)
        assert events[0].prev_hash == ""
        for before, after in itertools.pairwise(events):
            assert after.prev_hash == before.hash
        assert len({e.hash for e in events}) == 4
        assert ChainHead.objects.get(name="Event").last_hash == events[-1].hash
        assert verify_chain(Event) == []

    def test_intact_after_services(self, world: World) -> None:
        member_services.reveal_sensitive(
            actor=world.county_admin, member=world.m_away, field="phone"
        )
        member_services.update_member(
            actor=world.county_admin, member=world.m_local, employer="运城面粉厂"
        )
        assert Event.objects.count() >= 10
        assert verify_chain(Event) == []
        assert verify_chain(AccessLog) == []

    def test_empty_chain(self) -> None:
        assert verify_chain(Event) == []
        assert verify_chain(AccessLog) == []

    @pytest.mark.parametrize(
        ("field", "value"),
        [
            ("summary", "step X"),
            ("verb", "test.other"),
            ("data", {"n": 99}),
            ("actor_label", "某人"),
            ("org_path", "0009."),
            ("target_id", "77"),
        ],
    )
    def test_detects_an_edited_row(self, field: str, value: object) -> None:
        events = make_events(5)
        Event.objects.filter(pk=events[2].pk).update(**{field: value})
        assert verify_chain(Event) == [events[2].pk]

    def test_detects_an_edited_timestamp(self) -> None:
        events = make_events(3)
        Event.objects.filter(pk=events[1].pk).update(
            created_at=events[1].created_at - dt.timedelta(days=1)
        )
        assert verify_chain(Event) == [events[1].pk]

    def test_rehashing_an_edited_row_breaks_the_next_link(self) -> None:
        events = make_events(5)
        forged = Event.objects.get(pk=events[2].pk)
        forged.summary = "forged"
        forged.hash = record_digest(forged, EXTRA_FIELDS[Event])
        Event.objects.filter(pk=forged.pk).update(summary="forged", hash=forged.hash)
        assert verify_chain(Event) == [events[3].pk]

    def test_detects_a_deleted_middle_row(self) -> None:
        events = make_events(5)
        Event.objects.filter(pk=events[2].pk).delete()
        assert verify_chain(Event) == [events[3].pk]

    def test_detects_deleted_newest_rows(self) -> None:
        events = make_events(5)
        Event.objects.filter(pk__in=[events[3].pk, events[4].pk]).delete()
        assert verify_chain(Event) == [events[2].pk]

    def test_detects_a_chain_emptied_entirely(self) -> None:
        make_events(2)
        Event.objects.all().delete()
        assert verify_chain(Event) == [0]

    def test_deleting_the_oldest_rows_is_allowed(self) -> None:
        # Purging by age removes the start of the chain; the oldest kept row anchors it.
        events = make_events(5)
        Event.objects.filter(pk__in=[events[0].pk, events[1].pk]).delete()
        assert verify_chain(Event) == []

    def test_access_log_chain(self, world: World) -> None:
        entries = [
            record_access(
                actor=world.county_admin,
                action="export",
                fields=["id_number", "phone"],
                organization=world.county,
                row_count=n + 1,
                reason="年度核查",
            )
            for n in range(3)
        ]
        assert verify_chain(AccessLog) == []
        AccessLog.objects.filter(pk=entries[1].pk).update(row_count=1000)
        assert verify_chain(AccessLog) == [entries[1].pk]
        AccessLog.objects.filter(pk=entries[1].pk).delete()
        assert verify_chain(AccessLog) == [entries[2].pk]
        assert verify_chain(Event) == []  # chains are separate


class TestMaintenanceCommand:
    def test_verify_only(self) -> None:
        make_events(3)
        out = io.StringIO()
        call_command("audit_maintenance", stdout=out)
        assert out.getvalue().splitlines() == ["Event: chain intact", "AccessLog: chain intact"]
        assert Event.objects.count() == 3

    def test_broken_chain_fails(self) -> None:
        events = make_events(3)
        Event.objects.filter(pk=events[1].pk).update(summary="changed")
        err = io.StringIO()
        with pytest.raises(CommandError, match="audit chain verification failed"):
            call_command(
                "audit_maintenance", "--purge", "--days", "365", stdout=io.StringIO(), stderr=err
            )
        assert err.getvalue().strip() == f"Event: chain broken at ids [{events[1].pk}]"
        assert Event.objects.count() == 3  # nothing purged

    @pytest.mark.parametrize("days", ["179", "30", "0", "-1"])
    def test_refuses_retention_below_180_days(self, days: str) -> None:
        events = make_events(3)
        rewrite_chain(Event, {events[0].pk: dt.timedelta(days=400)})
        with pytest.raises(CommandError, match="retention must be at least 180 days"):
            call_command("audit_maintenance", "--purge", f"--days={days}", stdout=io.StringIO())
        assert Event.objects.count() == 3
        assert not Event.objects.filter(verb="audit.purged").exists()

    def test_purge_at_180_days(self) -> None:
        events = make_events(4)
        rewrite_chain(
            Event,
            {
                events[0].pk: dt.timedelta(days=400),
                events[1].pk: dt.timedelta(days=181),
                events[2].pk: dt.timedelta(days=179),
            },
        )
        assert verify_chain(Event) == []
        out = io.StringIO()
        call_command("audit_maintenance", "--purge", "--days", "180", stdout=out)
        assert out.getvalue().splitlines()[-1] == "purged {'Event': 2, 'AccessLog': 0}"
        remaining = list(Event.objects.order_by("id").values_list("pk", flat=True))
        purged = Event.objects.get(verb="audit.purged")
        assert remaining == [events[2].pk, events[3].pk, purged.pk]
        assert (purged.summary, purged.data) == (
            "older than 180 days",
            {"Event": 2, "AccessLog": 0},
        )
        assert verify_chain(Event) == []
        # The command verifies the remaining chain without complaint.
        again = io.StringIO()
        call_command("audit_maintenance", stdout=again)
        assert again.getvalue().splitlines() == ["Event: chain intact", "AccessLog: chain intact"]

    def test_default_retention_keeps_recent_rows(self, settings) -> None:
        assert settings.AUDIT_RETENTION_DAYS >= settings.AUDIT_MIN_RETENTION_DAYS == 180
        make_events(2)
        call_command("audit_maintenance", "--purge", stdout=io.StringIO())
        assert Event.objects.exclude(verb="audit.purged").count() == 2

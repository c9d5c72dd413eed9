"""A dump of the database holds no plaintext ID number, phone number or sensitive note.

The data are committed (transactional test), then read three ways: every row of every table
through the connection; the raw bytes of the SQLite file and its WAL; the output of pg_dump.
The SMS for a sign-in code goes through the database task queue, as in production.
"""

from __future__ import annotations

import datetime as dt
import os
import random
import shutil
import subprocess
from pathlib import Path

import pytest
from django.db import connection
from django_tasks_db.models import DBTaskResult

from tests.conftest import (
    ID_AWAY,
    ID_LOCAL,
    ID_OTHER,
    PHONE_AWAY,
    PHONE_LOCAL,
    PHONE_OTHER,
    build_world,
)
from yanxing.accounts import services as account_services
from yanxing.core.crypto import keyring
from yanxing.demo.synthetic import synthetic_id, synthetic_phone
from yanxing.members import services as member_services
from yanxing.members.models import Member

NOTE = "慢性肾病，低保户，需每月走访"
DB_TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}


def encodings(values: list[str]) -> list[bytes]:
    found: list[bytes] = []
    for value in values:
        for codec in ("utf-8", "utf-16-le", "utf-16-be"):
            found.append(value.encode(codec))
    return found


def populate() -> list[str]:
    """Members, changes, reveals, sign-in codes; returns every secret that must not be stored."""
    world = build_world()
    rng = random.Random(20250601)
    secrets = [ID_AWAY, ID_LOCAL, ID_OTHER, PHONE_AWAY, PHONE_LOCAL, PHONE_OTHER, NOTE]
    for n in range(5):
        number, phone = synthetic_id(rng, "140822"), synthetic_phone(rng)
        member_services.create_member(
            actor=world.county_admin,
            home_org=world.village,
            name=f"测试{n}",
            id_number=number,
            phone=phone,
            sensitive_notes=f"{NOTE}{n}",
        )
        secrets += [number, phone, f"{NOTE}{n}"]
    # Corrections write history rows; the old and the new values must both stay out.
    new_id, new_phone = synthetic_id(rng, "140822"), synthetic_phone(rng)
    member_services.update_member(
        actor=world.county_admin,
        member=world.m_local,
        id_number=new_id,
        phone=new_phone,
        sensitive_notes=NOTE,
    )
    secrets += [new_id, new_phone]
    member_services.mark_lost_contact(
        actor=world.home_secretary, member=world.m_away, since=dt.date(2025, 1, 1), note="电话停机"
    )
    member_services.restore_contact(
        actor=world.home_secretary, member=world.m_away, on=dt.date(2025, 2, 1), how="本人来电"
    )
    for field in ("id_number", "phone", "sensitive_notes"):
        assert member_services.reveal_sensitive(
            actor=world.county_admin, member=world.m_local, field=field
        )
    # Sign-in codes, for a member and for an unregistered number (both only hashed).
    account_services.request_phone_code(phone=PHONE_AWAY, ip="203.0.113.5")
    account_services.request_phone_code(phone="13700002222", ip="203.0.113.5")
    secrets.append("13700002222")
    return secrets


def table_rows() -> dict[str, list[tuple[object, ...]]]:
    rows: dict[str, list[tuple[object, ...]]] = {}
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")
            rows[table] = list(cursor.fetchall())
    return rows


@pytest.fixture
def committed_data(transactional_db, settings):
    settings.TASKS = DB_TASKS
    return populate()


def test_rows_hold_no_plaintext(committed_data: list[str]) -> None:
    rows = table_rows()
    for table in (
        "members_member",
        "members_historicalmember",
        "members_historicalparticipation",
        "orgs_historicalorganization",
        "audit_event",
        "audit_accesslog",
        "accounts_phonecode",
    ):
        assert rows[table], f"{table} should have rows for this check to mean anything"
    queued = rows[DBTaskResult._meta.db_table]
    assert len(queued) == 1, "one SMS for the registered phone is queued in the database"
    assert len(rows["audit_accesslog"]) == 3
    for table, table_rows_ in rows.items():
        text = repr(table_rows_)
        for secret in committed_data:
            assert secret not in text, f"plaintext {secret[:3]}… in table {table}"
    # The encrypted columns hold ciphertext under the primary key.
    members = rows["members_member"]
    assert Member.objects.count() == len(members) == 8
    with connection.cursor() as cursor:
        cursor.execute("SELECT id_number, phone FROM members_member")
        for raw_id, raw_phone in cursor.fetchall():
            assert raw_id.startswith(keyring().primary + "$")
            assert raw_phone.startswith(keyring().primary + "$")


def test_sqlite_file_holds_no_plaintext(committed_data: list[str]) -> None:
    if connection.vendor != "sqlite":
        pytest.skip(
            f"raw file check is for SQLite; this run uses {connection.vendor} (see the pg_dump test)"
        )
    name = str(connection.settings_dict["NAME"])
    if name == ":memory:" or name.startswith("file:"):
        pytest.skip("the SQLite test database is in memory; set a file TEST NAME")
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA wal_checkpoint(FULL)")
        busy, _, _ = cursor.fetchone()
        assert busy == 0
    files = [
        Path(name + suffix) for suffix in ("", "-wal", "-journal") if Path(name + suffix).exists()
    ]
    assert files[0] == Path(name)
    data = b"".join(path.read_bytes() for path in files)
    assert len(data) > 100_000
    # Known values that are stored must be found, so the scan itself works.
    assert "甲县驻北京流动党员党支部".encode() in data
    assert b"1408**********0711" in data
    for needle in encodings(committed_data):
        assert needle not in data, (
            f"plaintext {needle[:6]!r}… in {', '.join(p.name for p in files)}"
        )


def test_pg_dump_holds_no_plaintext(committed_data: list[str]) -> None:
    if connection.vendor != "postgresql":
        pytest.skip(
            f"pg_dump check is for PostgreSQL; this run uses {connection.vendor} (see the SQLite file test)"
        )
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        pytest.skip("pg_dump is not installed")
    params = connection.settings_dict
    env = {**os.environ, "PGPASSWORD": str(params.get("PASSWORD") or "")}
    command = [pg_dump, "--no-owner", "--format=plain", "--dbname", str(params["NAME"])]
    for flag, key in (("--host", "HOST"), ("--port", "PORT"), ("--username", "USER")):
        if params.get(key):
            command += [flag, str(params[key])]
    dump = subprocess.run(command, env=env, capture_output=True, check=True, timeout=120).stdout
    assert b"COPY public.members_member " in dump
    assert "甲县驻北京流动党员党支部".encode() in dump
    assert b"1408**********0711" in dump
    for needle in encodings(committed_data):
        assert needle not in dump, f"plaintext {needle[:6]!r}… in pg_dump output"

"""Demo data for two-way reconciliation (synthetic people only).

`build_demo` gives two external branches of the demo county a list of who reported in, as if
imported from their own files — most rows copy the member on the branch's books, some with a
homophone name and a new phone number and no ID number, some with a name one character off
(same birthday and village, another phone: pairs to review), some with another employer, a few
people on no ledger, one person listed twice — and makes a finished run of the county against
those branches, so that the result page has something in every list and pairs to review.
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from django.db import transaction

from yanxing.core.crypto import blind_index
from yanxing.core.masking import mask_id_number, mask_phone
from yanxing.demo.synthetic import (
    EMPLOYERS,
    GIVEN,
    synthetic_id,
    synthetic_name,
    synthetic_phone,
)
from yanxing.ledgers.models import HostRecord
from yanxing.members import services as member_services
from yanxing.members.models import Member, Participation
from yanxing.orgs.models import Organization

from . import schedule
from .models import Run
from .services.runs import execute_run, start_run
from .tables import Cities, village_text

RECORD_KEY_PURPOSE = "reconciliation.demo.record_key"
#: Characters read alike (同音字) for the homophone-name rows.
HOMOPHONES = {
    "王": "汪",
    "张": "章",
    "李": "黎",
    "刘": "柳",
    "杨": "阳",
    "陈": "程",
    "周": "邹",
    "伟": "玮",
    "芳": "方",
    "军": "君",
    "华": "桦",
    "明": "铭",
    "强": "蔷",
    "平": "萍",
    "国": "帼",
}


def add_host_record(
    *,
    organization: Organization,
    name: str,
    id_number: str = "",
    phone: str = "",
    sex: str = "",
    birth_date: dt.date | None = None,
    home_village: str = "",
    city: str = "",
    employer: str = "",
    reported_on: dt.date | None = None,
) -> HostRecord:
    """One row of a host organization's list, stored as the ledger import stores it."""
    id_hash = member_services.id_hash(id_number) if id_number else ""
    return HostRecord.objects.create(
        organization=organization,
        record_key=id_hash or blind_index(f"{name}|{phone}", RECORD_KEY_PURPOSE),
        name=name,
        id_number=id_number,
        id_hash=id_hash,
        id_masked=mask_id_number(id_number),
        phone=phone,
        phone_hash=member_services.phone_hash(phone) if phone else "",
        phone_masked=mask_phone(phone),
        sex=sex,
        birth_date=birth_date,
        home_village=home_village,
        city=city,
        employer=employer,
        reported_on=reported_on,
    )


def mistyped(name: str, rng: random.Random) -> str:
    """The last character replaced by another (not a homophone): 王建国 → 王建明."""
    others = [c for c in GIVEN if c != name[-1] and c not in HOMOPHONES.values()]
    return name[:-1] + rng.choice(others)


def homophone(name: str) -> str:
    for index in range(len(name) - 1, -1, -1):
        if name[index] in HOMOPHONES:
            return name[:index] + HOMOPHONES[name[index]] + name[index + 1 :]
    return name


def _list_for(host: Organization, rng: random.Random, cities: Cities) -> None:
    city = cities.of(host.host_division_id)
    members = list(
        Member.objects.filter(
            pk__in=Participation.objects.filter(organization=host, ended_on__isnull=True).values(
                "member_id"
            )
        )
        .select_related("home_division")
        .order_by("pk")
    )
    today = dt.date.today()
    for index, member in enumerate(members):
        village = village_text(member.home_division.full_name) if member.home_division else ""
        reported = today - dt.timedelta(days=rng.randint(20, 600))
        roll = index % 7
        if roll == 1:
            # One character different, same birthday and village, another phone, no ID
            # number: a twin or a typo? A pair to review.
            add_host_record(
                organization=host,
                name=mistyped(member.name, rng),
                phone=synthetic_phone(rng),
                sex=member.sex,
                birth_date=member.birth_date,
                home_village=village,
                city=city,
                reported_on=reported,
            )
        elif roll == 2:
            # Homophone name, a new phone and no ID number.
            add_host_record(
                organization=host,
                name=homophone(member.name),
                phone=synthetic_phone(rng),
                sex=member.sex,
                birth_date=member.birth_date,
                home_village=village,
                city=city,
                employer=member.employer,
                reported_on=reported,
            )
        elif roll == 5:
            continue  # on the branch's books but missing from its list
        else:
            add_host_record(
                organization=host,
                name=member.name,
                id_number=member.id_number,
                phone=member.phone if roll != 3 else synthetic_phone(rng),
                sex=member.sex,
                birth_date=member.birth_date,
                home_village=village,
                city=city,
                employer=member.employer if roll != 4 else rng.choice(EMPLOYERS),
                reported_on=reported,
            )
    if members:
        # The first member listed twice: once more without the ID number (a duplicate).
        first = members[0]
        add_host_record(
            organization=host,
            name=first.name,
            phone=first.phone,
            sex=first.sex,
            city=city,
            employer=first.employer,
            reported_on=today - dt.timedelta(days=3),
        )
    for _ in range(3):
        # People on no ledger of the county (from another county).
        number = synthetic_id(rng, "140802")
        add_host_record(
            organization=host,
            name=synthetic_name(rng),
            id_number=number,
            phone=synthetic_phone(rng),
            sex="M" if int(number[16]) % 2 else "F",
            birth_date=dt.date(int(number[6:10]), int(number[10:12]), int(number[12:14])),
            city=city,
            employer=rng.choice(EMPLOYERS),
            reported_on=today - dt.timedelta(days=rng.randint(5, 90)),
        )


def build_demo(
    *, actor: Any, county: Organization, hosts: list[Organization], seed: int = 2026
) -> Run:
    """Host lists for `hosts` and a finished run of `county` against them (current quarter)."""
    rng = random.Random(seed)
    cities = Cities()
    cities.load({h.host_division_id for h in hosts if h.host_division_id})
    with transaction.atomic():
        for host in hosts:
            _list_for(host, rng, cities)
        run = start_run(
            actor=actor, home_org=county, hosts=hosts, quarter=schedule.current_quarter()
        )
    # Made here, not by the worker, so that the demo shows a result at once; the job queued
    # by start_run then finds the run finished and leaves it as it is.
    return execute_run(run_id=run.pk)

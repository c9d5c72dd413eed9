"""The demo data: host lists for two branches of the demo county and a finished run with
something in every list and pairs to review (synthetic people only)."""

from __future__ import annotations

import pytest
from django.core.management import call_command

from yanxing.accounts.models import User
from yanxing.ledgers.models import HostRecord
from yanxing.orgs.models import Organization

from .. import schedule, selectors
from ..demo import homophone, mistyped
from ..models import Merge, Run, RunPair

pytestmark = pytest.mark.django_db


def test_name_variants() -> None:
    import random

    assert homophone("王建国") == "王建帼"
    assert homophone("张强") == "张蔷"
    name = mistyped("王建国", random.Random(1))
    assert name[:2] == "王建" and name[2] != "国" and len(name) == 3


def test_load_demo_builds_a_run() -> None:
    """`load_demo` calls build_demo for the demo county's Beijing and Xi'an branches."""
    call_command("load_divisions", prefix=["140822", "510521", "441900"], verbosity=0)
    call_command("load_demo", members=600, verbosity=0)
    admin = User.objects.get(username="wanrong_admin")
    county = Organization.objects.get(name="万荣县委组织部")
    hosts = [
        Organization.objects.get(name="万荣县驻北京流动党员第一党支部"),
        Organization.objects.get(name="万荣县驻西安流动党员党支部"),
    ]
    (run,) = Run.objects.filter(home_org=county)
    assert (run.status, run.quarter, run.home_org) == (
        "finished",
        schedule.current_quarter(),
        county,
    )
    assert set(run.hosts.all()) == set(hosts)
    # Each branch: its list, three people on no ledger, one person listed twice.
    for host in hosts:
        assert HostRecord.objects.filter(organization=host).count() >= 5
    counts = selectors.run_lists(admin, run).counts()
    assert counts["review"] >= 1 and counts["matched"] >= 1
    assert counts["unknown"] >= 6 and counts["unmanaged"] >= 1 and counts["duplicates"] >= 1
    assert RunPair.objects.filter(run=run, decision="review", status="proposed").exists()
    # Nothing confirmed: the demo leaves every decision to a person.
    assert Merge.objects.count() == 0
    assert not HostRecord.objects.filter(member__isnull=False).exists()

"""Who may see and do what in two-way reconciliation, page by page and model by model.

Three runs on top of the shared world and the hand-made scenario
(yanxing/reconciliation/tests/scenario.py):
- ``county``: county A's run against its Beijing branch (``host``) and a Tianjin branch
  (``tianjin``, one person on its list, twice: 钱进);
- ``village``: the village's run against the Beijing branch;
- ``other``: county B's run against its Dongguan branch.

The home side (members.view over the run's home organization) sees the whole run; a host's
staff see the run, and of it only the rows, pairs, conflicts and merges of their own host;
anyone else gets the same 404 as for a missing run. Decisions need the reconciliation action
over the home organization, sign-offs over the signing organization.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from django.test import Client
from openpyxl import load_workbook

from yanxing.audit.models import AccessLog
from yanxing.ledgers.models import HostRecord
from yanxing.members.models import Member
from yanxing.orgs import services as org_services
from yanxing.orgs.models import Organization, OrgKind
from yanxing.reconciliation import schedule
from yanxing.reconciliation.demo import add_host_record
from yanxing.reconciliation.models import (
    DuplicateGroup,
    Merge,
    Run,
    RunConflict,
    RunHost,
    RunPair,
    RunRecord,
    SignOff,
)
from yanxing.reconciliation.services import (
    bulk_decide,
    confirm_pair,
    execute_run,
    sign_off,
    start_run,
)
from yanxing.reconciliation.tests.scenario import Scenario, build, synthetic
from yanxing.regions.models import Division

from .conftest import ID_OTHER, PERSONAS, World
from .scope_helpers import (
    EXTRA_STAFF,
    NON_STAFF,
    STAFF_PERSONAS,
    Extra,
    actor,
    add_extra_staff,
    assert_no_leak,
    assert_turned_away,
    body,
    missing_pk,
    not_found_body,
    select_options,
    signed_in,
)

URL_TESTS: dict[str, list[str]] = {
    "reconciliation:list": ["test_run_list"],
    "reconciliation:create": ["test_run_create"],
    "reconciliation:detail": ["test_run_detail", "test_run_detail_lists"],
    "reconciliation:status": ["test_run_status"],
    "reconciliation:export": ["test_run_export"],
    "reconciliation:action": [
        "test_run_action_signoff",
        "test_run_action_retry",
        "test_run_action_bulk",
    ],
    "reconciliation:pair_action": ["test_pair_action"],
    "reconciliation:merge_action": ["test_merge_action"],
    "reconciliation:conflict_action": ["test_conflict_action"],
}

EVERYONE = PERSONAS + list(EXTRA_STAFF)
ALL_STAFF = STAFF_PERSONAS + list(EXTRA_STAFF)
RUNS = ["county", "village", "other"]

#: members.view: the runs each persona sees, and on which side.
HOME_SIDE: dict[str, set[str]] = {
    "county_admin": {"county", "village"},
    "home_secretary": {"village"},
    "village_viewer": {"village"},
    "village_staff": {"village"},
    "other_admin": {"other"},
}
HOST_SIDE: dict[str, set[str]] = {
    "host_secretary": {"county", "village"},
    "host_auditor": {"county", "village"},
    "other_secretary": {"other"},
}


def runs_seen(persona: str) -> set[str]:
    return HOME_SIDE.get(persona, set()) | HOST_SIDE.get(persona, set())


#: reconciliation.run over the run's home organization: who decides on pairs.
DECIDES: dict[str, set[str]] = {
    "county_admin": {"county", "village"},
    "home_secretary": {"village"},
    "other_admin": {"other"},
}
#: members.export: who exports which run.
EXPORTS: dict[str, set[str]] = {
    "county_admin": {"county", "village"},
    "home_secretary": {"village"},
    "host_secretary": {"county", "village"},
    "other_secretary": {"other"},
    "other_admin": {"other"},
}
#: reconciliation.run over the signing organization: (run, organization key) pairs.
SIGNS: dict[str, set[tuple[str, str]]] = {
    "county_admin": {
        ("county", "county"),
        ("county", "host"),
        ("county", "tianjin"),
        ("village", "village"),
        ("village", "host"),
    },
    "home_secretary": {("village", "village")},
    "host_secretary": {("county", "host"), ("village", "host")},
    "other_secretary": {("other", "other_branch")},
    "other_admin": {("other", "other_county"), ("other", "other_branch")},
}

#: Names on each run's lists, as the home side and as the Beijing host see them.
HOME_LISTS = {
    "matched": {"王建国", "吴敏", "周杰", "张志强", "陈伟"},
    "review": {"马文斌", "黄海"},
    "unmanaged": {"赵丽", "刘芳", "马文斌", "黄海"},
    "unknown": {"孙明", "马文武", "黄梅", "钱进"},
    "duplicates": {"刘芳", "孙明", "钱进"},
    "conflicts": {"吴敏", "张志强", "陈伟"},
}
#: Only on the home side's pages (the home ledger's own rows) or the other host's.
HOME_ONLY = {"赵丽", "刘芳", "钱进"}


@dataclass
class Recon:
    world: World
    extra: Extra
    scenario: Scenario
    tianjin: Organization
    runs: dict[str, Run]

    def org(self, key: str) -> Organization:
        if key == "tianjin":
            return self.tianjin
        result: Organization = getattr(self.world, key)
        return result


def make_run(user: Any, home: Organization, hosts: list[Organization]) -> Run:
    run = start_run(actor=user, home_org=home, hosts=hosts, quarter=schedule.previous_quarter())
    return execute_run(run_id=run.pk)


@pytest.fixture
def extra(world: World) -> Extra:
    return add_extra_staff(world)


@pytest.fixture
def recon(world: World, extra: Extra) -> Recon:
    scenario = build(world)
    tianjin = org_services.create_organization(
        actor=world.county_admin,
        name="甲县驻天津流动党员党支部",
        kind=OrgKind.FORMAL_BRANCH,
        parent=world.county,
        is_external=True,
        host_division=Division.objects.get(code="110100000000"),
    )
    add_host_record(
        organization=tianjin,
        name="钱进",
        id_number=synthetic("14080219850505001"),
        phone="13800000041",
        city="天津市",
    )
    # Listed twice: once with an ID number, once without (duplicates within host lists).
    add_host_record(organization=tianjin, name="钱进", phone="13800000041", sex="M", city="天津")
    add_host_record(organization=world.host, name="孙明", phone="13800000023", city="北京市")
    add_host_record(
        organization=world.other_branch,
        name="毛正伦",
        id_number=ID_OTHER,
        phone="13912340003",
        sex="M",
        birth_date=dt.date(1992, 11, 30),
        city="东莞市",
    )
    runs = {
        "county": make_run(world.county_admin, world.county, [world.host, tianjin]),
        "village": make_run(world.county_admin, world.village, [world.host]),
        "other": make_run(extra.other_admin, world.other_county, [world.other_branch]),
    }
    return Recon(world, extra, scenario, tianjin, runs)


@pytest.fixture
def login(recon: Recon) -> Callable[[str], Client]:
    return lambda persona: signed_in(recon.world, recon.extra, persona)


def same_as_missing(client: Client, path: str, missing: str, method: str = "get") -> None:
    response = getattr(client, method)(path)
    assert response.status_code == 404
    assert not_found_body(response, path) == not_found_body(
        getattr(client, method)(missing), missing
    )


def no_foreign_text(html: str, recon: Recon, persona: str, run_key: str) -> None:
    assert_no_leak(html, recon.world, persona)
    if run_key in HOST_SIDE.get(persona, set()):
        found = sorted(name for name in HOME_ONLY if name in html)
        assert found == [], f"{persona} was shown {found}"


def pair(run: Run, right_name: str) -> RunPair:
    return RunPair.objects.get(run=run, right__name=right_name)


# --------------------------------------------------------------------------------------------
# The querysets
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.scope_test("reconciliation.RunHost")
@pytest.mark.scope_test("reconciliation.RunRecord")
@pytest.mark.scope_test("reconciliation.RunPair")
@pytest.mark.scope_test("reconciliation.RunConflict")
@pytest.mark.scope_test("reconciliation.DuplicateGroup")
@pytest.mark.scope_test("reconciliation.Merge")
@pytest.mark.scope_test("reconciliation.SignOff")
@pytest.mark.parametrize("persona", EVERYONE)
def test_querysets(recon: Recon, persona: str) -> None:
    runs = recon.runs
    admin = recon.world.county_admin
    # Something of every model in every run: merges, sign-offs.
    confirm_pair(actor=admin, pair=pair(runs["county"], "陈伟"))
    bulk_decide(
        actor=recon.extra.other_admin,
        run=runs["other"],
        pair_ids=RunPair.objects.filter(run=runs["other"]).values_list("pk", flat=True),
        decision="confirm",
    )
    sign_off(
        actor=recon.extra.other_admin, run=runs["other"], organization=recon.world.other_branch
    )
    sign_off(
        actor=recon.extra.other_admin, run=runs["other"], organization=recon.world.other_county
    )
    user = actor(recon.world, recon.extra, persona)
    home = [runs[k].pk for k in HOME_SIDE.get(persona, set())]
    host_orgs = {
        "host_secretary": [recon.world.host.pk],
        "host_auditor": [recon.world.host.pk],
        "other_secretary": [recon.world.other_branch.pk],
    }.get(persona, [])
    hosted = [runs[k].pk for k in HOST_SIDE.get(persona, set())]

    def ids(queryset: Any) -> set[int]:
        return set(queryset.values_list("pk", flat=True))

    view = "members.view"
    assert ids(Run.objects.visible_to(user, view)) == {runs[k].pk for k in runs_seen(persona)}
    assert ids(RunHost.objects.visible_to(user, view)) == ids(
        RunHost.objects.filter(run__in=home)
    ) | ids(RunHost.objects.filter(run__in=hosted, organization__in=host_orgs))
    assert ids(RunRecord.objects.visible_to(user, view)) == ids(
        RunRecord.objects.filter(run__in=home)
    ) | ids(RunRecord.objects.filter(run__in=hosted, side="right", organization__in=host_orgs))
    assert ids(RunPair.objects.visible_to(user, view)) == ids(
        RunPair.objects.filter(run__in=home)
    ) | ids(RunPair.objects.filter(run__in=hosted, right__organization__in=host_orgs))
    assert ids(RunConflict.objects.visible_to(user, view)) == ids(
        RunConflict.objects.filter(run__in=home)
    ) | ids(RunConflict.objects.filter(run__in=hosted, pair__right__organization__in=host_orgs))
    assert ids(DuplicateGroup.objects.visible_to(user, view)) == ids(
        DuplicateGroup.objects.filter(run__in=home)
    ) | ids(
        DuplicateGroup.objects.filter(
            run__in=hosted, side="right", records__organization__in=host_orgs
        )
    )
    assert ids(Merge.objects.visible_to(user, view)) == ids(
        Merge.objects.filter(run__in=home)
    ) | ids(Merge.objects.filter(run__in=hosted, pair__right__organization__in=host_orgs))
    assert ids(SignOff.objects.visible_to(user, view)) == ids(
        SignOff.objects.filter(run__in=home)
    ) | ids(SignOff.objects.filter(run__in=hosted, organization__in=host_orgs)) | ids(
        SignOff.objects.filter(run__in=hosted, side="home")
    )
    # The figures the assertions rest on are not empty.
    assert Merge.objects.count() >= 2 and SignOff.objects.count() == 2


# --------------------------------------------------------------------------------------------
# Pages
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.scope_test("reconciliation.RunHost")
@pytest.mark.scope_test("reconciliation.SignOff")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_list(recon: Recon, login: Any, persona: str) -> None:
    client = login(persona)
    response = client.get("/reconciliation/")
    if persona in NON_STAFF:
        assert_turned_away(response, persona, "/reconciliation/")
        return
    assert response.status_code == 200
    shown = {run.pk for run in response.context["object_list"]}
    assert shown == {recon.runs[k].pk for k in runs_seen(persona)}
    html = body(response)
    assert_no_leak(html, recon.world, persona)
    # A host's staff do not see the other host of the county's run.
    if persona in ("host_secretary", "host_auditor"):
        assert recon.tianjin.name not in html
    # The quarterly flag: organizations of the persona's scope with away members and no
    # signed-off run for the previous quarter.
    overdue = [item.organization.name for item in response.context["overdue"]]
    expected = {
        "county_admin": ["城西村党支部"],
        "home_secretary": ["城西村党支部"],
        "village_viewer": ["城西村党支部"],
        "village_staff": ["城西村党支部"],
        "other_secretary": ["乙县驻东莞党支部"],
        "other_admin": ["乙县驻东莞党支部"],
    }
    assert overdue == expected.get(persona, [])
    assert ('data-testid="overdue"' in html) == bool(overdue)
    assert response.context["can_start"] == (persona in SIGNS)


#: Organizations offered when starting a run: reconciliation.run, active, not external (home) /
#: external (hosts).
START_CHOICES: dict[str, tuple[set[str], set[str]]] = {
    "county_admin": ({"county", "township", "village"}, {"host", "tianjin"}),
    "home_secretary": ({"village"}, set()),
    "host_secretary": (set(), {"host"}),
    "other_secretary": (set(), {"other_branch"}),
    "other_admin": ({"other_county"}, {"other_branch"}),
}


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.scope_test("reconciliation.RunHost")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_create(
    recon: Recon, login: Any, persona: str, django_capture_on_commit_callbacks: Any
) -> None:
    client = login(persona)
    get = client.get("/reconciliation/new/")
    if persona in NON_STAFF:
        assert_turned_away(get, persona, "/reconciliation/new/")
        return
    if persona not in START_CHOICES:
        assert get.status_code == 404
        assert client.post("/reconciliation/new/", {}).status_code == 404
        return
    assert get.status_code == 200
    html = body(get)
    assert_no_leak(html, recon.world, persona)
    homes, hosts = START_CHOICES[persona]
    assert set(select_options(html, "home_org")) == {str(recon.org(k).pk) for k in homes}
    offered = {org.pk for org in get.context["form"].fields["hosts"].queryset}
    assert offered == {recon.org(k).pk for k in hosts}
    quarter = schedule.current_quarter()
    for home_key in ("county", "village", "other_county"):
        for host_key in ("host", "tianjin", "other_branch"):
            before = Run.objects.count()
            with django_capture_on_commit_callbacks(execute=True):
                response = client.post(
                    "/reconciliation/new/",
                    {
                        "home_org": recon.org(home_key).pk,
                        "hosts": [recon.org(host_key).pk],
                        "quarter": quarter,
                    },
                )
            if home_key in homes and host_key in hosts:
                run = Run.objects.order_by("-pk").first()
                assert run is not None and Run.objects.count() == before + 1
                assert response.status_code == 302
                assert response["Location"] == f"/reconciliation/{run.pk}/"
                assert (run.home_org.pk, run.status) == (recon.org(home_key).pk, "finished")
                assert list(run.hosts.all()) == [recon.org(host_key)]
            else:
                assert response.status_code == 400
                assert Run.objects.count() == before
                assert_no_leak(body(response), recon.world, persona)


LIST_NAMES = ["matched", "review", "unmanaged", "unknown", "duplicates", "conflicts", "merges"]
#: The county run's figures per list, for the home side and for the Beijing host.
COUNTS = {
    "home": {
        "matched": 5,
        "review": 2,
        "unmanaged": 5,
        "unknown": 6,
        "duplicates": 3,
        "conflicts": 5,
        "merges": 0,
    },
    "host": {
        "matched": 5,
        "review": 2,
        "unmanaged": 0,
        "unknown": 4,
        "duplicates": 1,
        "conflicts": 5,
        "merges": 0,
    },
}


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.scope_test("reconciliation.RunPair")
@pytest.mark.scope_test("reconciliation.RunRecord")
@pytest.mark.scope_test("reconciliation.SignOff")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_detail(recon: Recon, login: Any, persona: str) -> None:
    client = login(persona)
    missing = f"/reconciliation/{missing_pk(Run)}/"
    for key, run in recon.runs.items():
        path = f"/reconciliation/{run.pk}/"
        response = client.get(path)
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
            continue
        if key not in runs_seen(persona):
            same_as_missing(client, path, missing)
            continue
        assert response.status_code == 200
        html = body(response)
        no_foreign_text(html, recon, persona, key)
        assert "1408**********" in html or key == "other"
        assert response.context["home_side"] == (key in HOME_SIDE.get(persona, set()))
        assert response.context["can_decide"] == (key in DECIDES.get(persona, set()))
        hosts = {h.name for h in response.context["hosts"]}
        if key == "county":
            side = "home" if key in HOME_SIDE.get(persona, set()) else "host"
            assert response.context["counts"] == COUNTS[side]
            assert hosts == (
                {recon.world.host.name, recon.tianjin.name}
                if side == "home"
                else {recon.world.host.name}
            )
            # Sides: the home organization and the hosts the persona sees.
            assert [org.name for org, _side, _signed in response.context["sides"]] == [
                recon.world.county.name,
                *sorted(hosts),
            ]
        signable = {org_key for run_key, org_key in SIGNS.get(persona, set()) if run_key == key}
        offered = dict(response.context["signoff_form"].fields["organization"].choices)
        assert set(offered) == {recon.org(k).pk for k in signable}


@pytest.mark.scope_test("reconciliation.RunPair")
@pytest.mark.scope_test("reconciliation.RunRecord")
@pytest.mark.scope_test("reconciliation.RunConflict")
@pytest.mark.scope_test("reconciliation.DuplicateGroup")
@pytest.mark.scope_test("reconciliation.Merge")
@pytest.mark.parametrize(
    "persona", ["county_admin", "host_secretary", "host_auditor", "other_admin"]
)
def test_run_detail_lists(recon: Recon, login: Any, persona: str) -> None:
    run = recon.runs["county"]
    confirm_pair(actor=recon.world.county_admin, pair=pair(run, "陈伟"))
    client = login(persona)
    for name in LIST_NAMES:
        path = f"/reconciliation/{run.pk}/"
        response = client.get(path, {"list": name})
        if persona == "other_admin":
            assert response.status_code == 404
            continue
        assert response.status_code == 200
        html = body(response)
        no_foreign_text(html, recon, persona, "county")
        if name == "merges":
            assert len(response.context["rows"]) == 1
        elif persona == "county_admin":
            shown = {n for row in response.context["rows"] for n in row_names(row)}
            assert HOME_LISTS[name] <= shown
        # Filtering by host never reaches another host's rows.
        for host in (recon.world.host, recon.tianjin):
            filtered = client.get(path, {"list": name, "host": host.pk})
            assert filtered.status_code == 200
            no_foreign_text(body(filtered), recon, persona, "county")
        # Searching by a name of the home ledger or of the other host finds nothing there.
        for term in sorted(HOME_ONLY):
            found = client.get(path, {"list": name, "q": term})
            if persona != "county_admin":
                assert list(found.context["rows"]) == []


def row_names(row: Any) -> set[str]:
    if isinstance(row, RunPair):
        return {row.left.name}
    if isinstance(row, RunRecord):
        return {row.name}
    if isinstance(row, DuplicateGroup):
        return {r.name for r in row.visible_records}
    if isinstance(row, RunConflict):
        return {row.pair.left.name}
    return {row.survivor.name}


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_status(recon: Recon, login: Any, persona: str) -> None:
    client = login(persona)
    queued = Run.objects.create(
        home_org=recon.world.county, quarter=schedule.current_quarter(), progress=30, stage="hosts"
    )
    queued.run_hosts.create(organization=recon.world.host)
    runs = {**recon.runs, "queued": queued}
    seen = runs_seen(persona) | ({"queued"} if "county" in runs_seen(persona) else set())
    missing = f"/reconciliation/{missing_pk(Run)}/status/"
    for key, run in runs.items():
        path = f"/reconciliation/{run.pk}/status/"
        response = client.get(path, HTTP_HX_REQUEST="true")
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
        elif key not in seen:
            same_as_missing(client, path, missing)
        else:
            assert response.status_code == 200
            html = body(response)
            assert f'data-testid="run-progress">{run.progress}%<' in html
            assert ("HX-Refresh" in response) == (key != "queued")
            # Polling continues only while the run waits or runs.
            assert ("hx-trigger" in html) == (key == "queued")
            # The page itself shows the progress and works by reload.
            if key == "queued":
                page = body(client.get(f"/reconciliation/{run.pk}/"))
                assert 'data-testid="run-status"' in page and "30%" in page


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.scope_test("reconciliation.RunRecord")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_export(recon: Recon, login: Any, persona: str) -> None:
    client = login(persona)
    missing = f"/reconciliation/{missing_pk(Run)}/export.xlsx"
    for key, run in recon.runs.items():
        path = f"/reconciliation/{run.pk}/export.xlsx"
        logged = AccessLog.objects.count()
        response = client.get(path)
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
            continue
        if key not in EXPORTS.get(persona, set()):
            same_as_missing(client, path, missing)
            assert AccessLog.objects.count() == logged
            continue
        assert response.status_code == 200
        book = load_workbook(io.BytesIO(response.content))
        text = "\n".join(
            str(cell) for sheet in book for row in sheet.iter_rows(values_only=True) for cell in row
        )
        no_foreign_text(text, recon, persona, key)
        entry = AccessLog.objects.order_by("-id")[0]
        assert AccessLog.objects.count() == logged + 1
        if key in HOST_SIDE.get(persona, set()):
            side = recon.world.other_branch if key == "other" else recon.world.host
        else:
            side = run.home_org
        expected_org = side.path
        assert (entry.action, entry.target_id, entry.org_path, entry.reason) == (
            "export",
            str(run.pk),
            expected_org,
            "masked",
        )


# --------------------------------------------------------------------------------------------
# Actions
# --------------------------------------------------------------------------------------------


@pytest.mark.scope_test("reconciliation.SignOff")
@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_action_signoff(recon: Recon, login: Any, persona: str) -> None:
    # Every pair decided, so that each side may sign.
    for key, run in recon.runs.items():
        user = recon.extra.other_admin if key == "other" else recon.world.county_admin
        for decision in ("confirm", "reject"):
            # Pairs the first run's merges made moot (周杰's second record is merged) are
            # rejected in the second.
            bulk_decide(
                actor=user,
                run=run,
                pair_ids=RunPair.objects.filter(run=run, status="proposed").values_list(
                    "pk", flat=True
                ),
                decision=decision,
            )
    client = login(persona)
    missing = f"/reconciliation/{missing_pk(Run)}/do/signoff/"
    for key, run in recon.runs.items():
        path = f"/reconciliation/{run.pk}/do/signoff/"
        for org_key in ("county", "village", "host", "tianjin", "other_county", "other_branch"):
            org = recon.org(org_key)
            before = SignOff.objects.filter(run=run).count()
            response = client.post(path, {"organization": org.pk, "note": "已核对"})
            after = SignOff.objects.filter(run=run).count()
            if persona in NON_STAFF:
                assert_turned_away(response, persona, path)
                assert after == before
            elif key not in runs_seen(persona):
                same_as_missing(client, path, missing, "post")
                assert after == before
            elif (key, org_key) in SIGNS.get(persona, set()):
                assert response.status_code == 302
                signed = SignOff.objects.get(run=run, organization=org)
                assert signed.signed_by == actor(recon.world, recon.extra, persona)
            elif any(k == key for k, _ in SIGNS.get(persona, set())):
                # A choice outside the persona's sides is refused by the form.
                assert response.status_code == 302
                assert after == before
            else:
                assert response.status_code == 404
                assert after == before


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_action_retry(
    recon: Recon, login: Any, persona: str, django_capture_on_commit_callbacks: Any
) -> None:
    client = login(persona)
    failed = {}
    for key, run in recon.runs.items():
        Run.objects.filter(pk=run.pk).update(status="failed", error="boom")
        failed[key] = run
    missing = f"/reconciliation/{missing_pk(Run)}/do/retry/"
    for key, run in failed.items():
        path = f"/reconciliation/{run.pk}/do/retry/"
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(path)
        status = Run.objects.get(pk=run.pk).status
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
            assert status == "failed"
        elif key not in runs_seen(persona):
            same_as_missing(client, path, missing, "post")
            assert status == "failed"
        elif key in DECIDES.get(persona, set()):
            assert response.status_code == 302
            assert status == "finished"
        else:
            assert response.status_code == 404
            assert status == "failed"


@pytest.mark.scope_test("reconciliation.RunPair")
@pytest.mark.parametrize("persona", EVERYONE)
def test_run_action_bulk(recon: Recon, login: Any, persona: str) -> None:
    client = login(persona)
    for key, run in recon.runs.items():
        path = f"/reconciliation/{run.pk}/do/bulk/"
        proposed = list(
            RunPair.objects.filter(run=run, status="proposed").values_list("pk", flat=True)
        )
        # Pairs of the other runs smuggled in are never touched.
        foreign = list(
            RunPair.objects.exclude(run=run).filter(status="proposed").values_list("pk", flat=True)
        )
        response = client.post(path, {"decision": "reject", "pairs": proposed + foreign})
        rejected = set(RunPair.objects.filter(status="rejected").values_list("pk", flat=True))
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
            assert rejected == set()
        elif key in DECIDES.get(persona, set()):
            assert response.status_code == 302
            assert set(proposed) <= rejected and not set(foreign) & rejected
            RunPair.objects.filter(pk__in=proposed).update(status="proposed")
        else:
            assert response.status_code == 404
            assert rejected == set()


@pytest.mark.scope_test("reconciliation.RunPair")
@pytest.mark.scope_test("reconciliation.Merge")
@pytest.mark.parametrize("persona", EVERYONE)
def test_pair_action(recon: Recon, login: Any, persona: str) -> None:
    client = login(persona)
    missing = f"/reconciliation/pairs/{missing_pk(RunPair)}/do/confirm/"
    targets = {
        "county": pair(recon.runs["county"], "马文武"),
        "village": pair(recon.runs["village"], "黄梅"),
        "other": pair(recon.runs["other"], "毛正伦"),
    }
    for key, target in targets.items():
        for verb, status in (
            ("reject", "rejected"),
            ("reopen", "proposed"),
            ("confirm", "confirmed"),
        ):
            path = f"/reconciliation/pairs/{target.pk}/do/{verb}/"
            response = client.post(path)
            now = RunPair.objects.get(pk=target.pk).status
            if persona in NON_STAFF:
                assert_turned_away(response, persona, path)
                assert now == "proposed"
            elif key not in runs_seen(persona):
                same_as_missing(client, path, missing, "post")
                assert now == "proposed"
            elif (persona, key, verb) == ("home_secretary", "village", "confirm"):
                # Decides for the village, but confirming adds a participation in the Beijing
                # branch, outside the secretary's scope: refused with a message.
                assert response.status_code == 302
                assert now == "proposed"
            elif key in DECIDES.get(persona, set()):
                assert response.status_code == 302
                assert now == status
            else:
                # Sees the pair (host side, or a viewer), may not decide: 404 from the service.
                assert response.status_code == 404
                assert now == "proposed"
        if persona not in NON_STAFF and key in runs_seen(persona):
            assert client.post(f"/reconciliation/pairs/{target.pk}/do/merge/").status_code == 404
    merged = HostRecord.objects.filter(member__isnull=False).count()
    decided = {k for k in targets if k in DECIDES.get(persona, set())}
    assert merged == len(decided - ({"village"} if persona == "home_secretary" else set()))


@pytest.mark.scope_test("reconciliation.Merge")
@pytest.mark.parametrize("persona", EVERYONE)
def test_merge_action(recon: Recon, login: Any, persona: str) -> None:
    merges = {
        "county": confirm_pair(
            actor=recon.world.county_admin, pair=pair(recon.runs["county"], "陈伟")
        ),
        "other": confirm_pair(
            actor=recon.extra.other_admin, pair=pair(recon.runs["other"], "毛正伦")
        ),
    }
    client = login(persona)
    missing = f"/reconciliation/merges/{missing_pk(Merge)}/do/undo/"
    for key, confirmed in merges.items():
        merge = Merge.objects.get(pair=confirmed)
        path = f"/reconciliation/merges/{merge.pk}/do/undo/"
        response = client.post(path)
        undone = Merge.objects.get(pk=merge.pk).is_undone
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
            assert not undone
        elif key not in runs_seen(persona):
            same_as_missing(client, path, missing, "post")
            assert not undone
        elif key in DECIDES.get(persona, set()):
            assert response.status_code == 302
            assert undone
        else:
            assert response.status_code == 404
            assert not undone


@pytest.mark.scope_test("reconciliation.RunConflict")
@pytest.mark.parametrize("persona", EVERYONE)
def test_conflict_action(recon: Recon, login: Any, persona: str) -> None:
    run = recon.runs["county"]
    confirm_pair(actor=recon.world.county_admin, pair=pair(run, "陈伟"))
    phone = RunConflict.objects.get(run=run, pair__left__name="陈伟", field="phone")
    employer = RunConflict.objects.get(run=run, pair__left__name="陈伟", field="employer")
    client = login(persona)
    missing = f"/reconciliation/conflicts/{missing_pk(RunConflict)}/do/keep-home/"
    for conflict, verb, resolution in (
        (phone, "apply-host", "host"),
        (employer, "keep-home", "home"),
    ):
        path = f"/reconciliation/conflicts/{conflict.pk}/do/{verb}/"
        response = client.post(path)
        now = RunConflict.objects.get(pk=conflict.pk).resolution
        if persona in NON_STAFF:
            assert_turned_away(response, persona, path)
            assert now == ""
        elif "county" not in runs_seen(persona):
            same_as_missing(client, path, missing, "post")
            assert now == ""
        elif "county" in DECIDES.get(persona, set()):
            assert response.status_code == 302
            assert now == resolution
        else:
            assert response.status_code == 404
            assert now == ""
    chen = Member.objects.get(pk=recon.scenario.chen.pk)
    assert chen.phone == ("13800000022" if persona == "county_admin" else "13912340012")


@pytest.mark.scope_test("reconciliation.Run")
@pytest.mark.parametrize("persona", ALL_STAFF)
def test_dashboard_overdue_card(recon: Recon, login: Any, persona: str) -> None:
    html = body(login(persona).get("/"))
    # The card only (the rest of the dashboard is tests/test_scope_views.py's).
    card = html.partition('data-testid="dash-overdue"')[2].partition("</div></div></div>")[0]
    assert_no_leak(card, recon.world, persona)
    expected = {
        "county_admin": "城西村党支部",
        "home_secretary": "城西村党支部",
        "village_viewer": "城西村党支部",
        "village_staff": "城西村党支部",
        "other_secretary": "乙县驻东莞党支部",
        "other_admin": "乙县驻东莞党支部",
    }.get(persona)
    assert ('data-testid="dash-overdue"' in html) == (expected is not None)
    if expected:
        assert f'data-testid="dash-overdue-org">{expected}<' in html

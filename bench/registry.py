"""Province-sized registry benchmark: build 250,000 members and 40,000 organizations, then time
the scoped member list, searches and member pages for a county admin and a host-branch secretary.

    .venv/bin/python bench/registry.py                 # both databases
    .venv/bin/python bench/registry.py --db sqlite     # or postgres
    .venv/bin/python bench/registry.py --rebuild       # regenerate the data

The data goes to a database of its own: bench/data/registry.sqlite3 (SQLite) and
`yanxing_bench` (PostgreSQL on PGHOST/PGPORT/PGUSER, default 127.0.0.1:5432, user postgres;
created if missing). A generated database is reused when its marker matches the requested size,
seed and generator version. Prints figures only; see docs/performance.md.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.tables import markdown_table  # noqa: E402

DATA_DIR = ROOT / "bench" / "data"
SQLITE_PATH = DATA_DIR / "registry.sqlite3"
PG_DATABASE = "yanxing_bench"
MARKER_TABLE = "bench_registry_marker"
DB_LABELS = {"sqlite": "SQLite", "postgres": "PostgreSQL"}


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--members", type=int, default=250_000)
    parser.add_argument("--orgs", type=int, default=40_000)
    parser.add_argument("--reps", type=int, default=30, help="timed repetitions per operation")
    parser.add_argument("--warmup", type=int, default=3, help="untimed repetitions first")
    parser.add_argument(
        "--rebuild", action="store_true", help="regenerate even if the data matches"
    )
    parser.add_argument(
        "--explain", action="store_true", help="print query plans of the list query"
    )
    parser.add_argument(
        "--prepare-only", action="store_true", help="build or reuse the data, measure nothing"
    )
    return parser.parse_args(argv)


def log(message: str) -> None:
    print(message, flush=True)


# Database selection happens before Django starts ----------------------------------------------


def configure_environment(db: str) -> None:
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.settings"
    os.environ["YANXING_DB"] = db
    os.environ["YANXING_SQLITE_PATH"] = str(SQLITE_PATH)
    os.environ["PGDATABASE"] = PG_DATABASE
    os.environ.setdefault("PGHOST", "127.0.0.1")
    os.environ.setdefault("PGPORT", "5432")
    os.environ.setdefault("PGUSER", "postgres")
    (DATA_DIR / "staticfiles").mkdir(parents=True, exist_ok=True)


def pg_admin(statements: list[str]) -> None:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)


def pg_database_exists() -> bool:
    import psycopg

    with psycopg.connect(dbname="postgres", autocommit=True) as conn:
        return (
            conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [PG_DATABASE]).fetchone()
            is not None
        )


def reset_database(db: str) -> None:
    """Start from an empty database (the Django connection must be closed)."""
    if db == "postgres":
        pg_admin(
            [
                f'DROP DATABASE IF EXISTS "{PG_DATABASE}" WITH (FORCE)',
                f'CREATE DATABASE "{PG_DATABASE}"',
            ]
        )
    else:
        for suffix in ("", "-wal", "-shm"):
            Path(str(SQLITE_PATH) + suffix).unlink(missing_ok=True)


# Inside Django ---------------------------------------------------------------------------------


def read_marker() -> dict[str, Any] | None:
    from django.db import connection

    if MARKER_TABLE not in connection.introspection.table_names():
        return None
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT value FROM {MARKER_TABLE} WHERE name = 'registry'")
        row = cursor.fetchone()
    return json.loads(row[0]) if row else None


def write_marker(value: dict[str, Any]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            f"CREATE TABLE IF NOT EXISTS {MARKER_TABLE} (name varchar(32) PRIMARY KEY, value text NOT NULL)"
        )
        cursor.execute(f"DELETE FROM {MARKER_TABLE}")
        cursor.execute(
            f"INSERT INTO {MARKER_TABLE} (name, value) VALUES ('registry', %s)", [json.dumps(value)]
        )


def migrate() -> bool:
    """Apply pending migrations; True when there were any."""
    from django.core.management import call_command
    from django.db import connection
    from django.db.migrations.executor import MigrationExecutor

    executor = MigrationExecutor(connection)
    pending = executor.migration_plan(executor.loader.graph.leaf_nodes())
    call_command("migrate", verbosity=0, interactive=False)
    return bool(pending)


def prepare(args: argparse.Namespace) -> tuple[dict[str, Any], bool]:
    """Reuse the stored registry when it matches, else build it. Returns (marker, built now)."""
    from django.db import connection

    from bench.build import Builder, Spec

    spec = Spec(seed=args.seed, members=args.members, orgs=args.orgs)
    marker = None if args.rebuild else read_marker()
    if marker is not None and marker.get("spec") == spec.as_dict():
        log("reusing the stored registry (marker matches; --rebuild to regenerate)")
        # Migrations added since the build (e.g. new indexes) are applied to the stored data;
        # one that rewrites a table drops its planner statistics, so PostgreSQL re-analyzes.
        if migrate() and connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        return marker, False
    log("building the registry" + (" (--rebuild)" if args.rebuild else ""))
    connection.close()
    reset_database(args.db)
    start = time.perf_counter()
    migrate()
    migrate_seconds = round(time.perf_counter() - start, 1)
    result = Builder(spec, log).run()
    result.seconds = {"migrate": migrate_seconds, **result.seconds}
    total = round(time.perf_counter() - start, 1)
    marker = {
        "spec": spec.as_dict(),
        "build_seconds": total,
        "built_at": time.strftime("%Y-%m-%d %H:%M %z"),
        **result.as_dict(),
    }
    write_marker(marker)
    log(f"  total: {total:.1f} s")
    return marker, True


def row_counts() -> dict[str, int]:
    from yanxing.members.models import Member, Participation
    from yanxing.orgs.models import Organization

    history: Any = Member.history.model
    return {
        "organizations": Organization.objects.count(),
        "external organizations": Organization.objects.filter(is_external=True).count(),
        "members": Member.objects.count(),
        "members away": Member.objects.filter(mobility_status="away").count(),
        "active participations": Participation.objects.filter(ended_on__isnull=True).count(),
        "ended participations": Participation.objects.filter(ended_on__isnull=False).count(),
        "member history rows": history.objects.count(),
    }


def database_description() -> str:
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT current_setting('server_version'), pg_database_size(current_database())"
            )
            version, size = cursor.fetchone()
            return f"PostgreSQL {version}, database {PG_DATABASE}, {size / 2**20:,.0f} MiB"
        cursor.execute("SELECT sqlite_version()")
        (version,) = cursor.fetchone()
    size = sum(
        Path(str(SQLITE_PATH) + s).stat().st_size
        for s in ("", "-wal")
        if Path(str(SQLITE_PATH) + s).exists()
    )
    return f"SQLite {version}, {SQLITE_PATH.relative_to(ROOT)}, {size / 2**20:,.0f} MiB"


def personas(marker: dict[str, Any]) -> list[Any]:
    from bench.measure import Persona
    from yanxing.accounts.models import User
    from yanxing.members.models import Member
    from yanxing.orgs.models import Organization

    county = Organization.objects.get(pk=marker["county_org_id"])
    branch = Organization.objects.get(pk=marker["branch_org_id"])
    county_member = (
        Member.objects.filter(
            home_org__path__startswith=county.path,
            participations__ended_on__isnull=True,
            mobility_status="away",
        )
        .order_by("pk")
        .first()
    )
    branch_member = (
        Member.objects.filter(
            participations__organization=branch, participations__ended_on__isnull=True
        )
        .order_by("pk")
        .first()
    )
    if county_member is None or branch_member is None:
        raise RuntimeError("the registry has no member to open for a persona")
    return [
        Persona(
            f"county admin ({county.name})",
            User.objects.get(username=marker["county_admin"]),
            county_member,
        ),
        Persona(
            f"branch secretary ({branch.name})",
            User.objects.get(username=marker["branch_secretary"]),
            branch_member,
        ),
    ]


def format_table(rows: list[dict[str, Any]]) -> str:
    headers = ("persona", "operation", "rows", "queries", "median ms", "p95 ms")
    body = [
        (
            r["persona"].split(" (")[0],
            r["operation"],
            "" if r["rows"] is None else f"{r['rows']:,}",
            str(r["queries"]),
            f"{r['median_ms']:.1f}",
            f"{r['p95_ms']:.1f}",
        )
        for r in rows
    ]
    return markdown_table(headers, body, right={2, 3, 4, 5})


def run_one(args: argparse.Namespace) -> dict[str, Any]:
    configure_environment(args.db)
    if args.db == "postgres" and not pg_database_exists():
        pg_admin([f'CREATE DATABASE "{PG_DATABASE}"'])
    import django

    django.setup()
    from bench.measure import explain, measure, rows_as_dicts

    log(f"== {DB_LABELS[args.db]} ==")
    marker, built = prepare(args)
    if args.prepare_only:
        return {}
    counts = row_counts()
    people = personas(marker)
    if args.explain:
        explain(people, log)
    log(f"measuring: {args.warmup} warm-up + {args.reps} timed repetitions per operation")
    rows = rows_as_dicts(measure(people, args.reps, args.warmup, log))
    report = {
        "db": args.db,
        "database": database_description(),
        "counts": counts,
        "build_seconds": marker["build_seconds"],
        "build_steps": marker["seconds"],
        "built_now": built,
        "built_at": marker.get("built_at", ""),
        "personas": {p.label.split(" (")[0]: p.label for p in people},
        "rows": rows,
    }
    print_report(report)
    (DATA_DIR / f"results-{args.db}.json").write_text(
        json.dumps(report, ensure_ascii=False, indent=2)
    )
    return report


def print_report(report: dict[str, Any]) -> None:
    log("")
    log(f"### {DB_LABELS[report['db']]} — {report['database']}")
    steps = ", ".join(f"{k} {v:.1f} s" for k, v in report["build_steps"].items())
    when = "this run" if report["built_now"] else f"stored, built {report['built_at']}"
    log(f"build: {report['build_seconds']:.1f} s ({when}: {steps})")
    log("rows: " + ", ".join(f"{k} {v:,}" for k, v in report["counts"].items()))
    for label in report["personas"].values():
        log(f"persona: {label}")
    log("")
    log(format_table(report["rows"]))
    log("")


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for text in cpuinfo.read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    return f"{os.cpu_count()} CPUs ({cpu}), Python {platform.python_version()}, {platform.system()} {platform.release()}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.db != "both":
        run_one(args)
        return 0
    log(f"machine: {machine()}")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    script = str(Path(__file__).resolve())
    forwarded = [
        f"--{name}={getattr(args, name)}" for name in ("seed", "members", "orgs", "reps", "warmup")
    ]
    # Both databases are built (or found) at the same time, then measured one after the other
    # so that no measurement shares the machine with a build.
    logs = {db: DATA_DIR / f"prepare-{db}.log" for db in DB_LABELS}
    building = {}
    for db, path in logs.items():
        flags = [f"--db={db}", "--prepare-only", *forwarded] + (
            ["--rebuild"] if args.rebuild else []
        )
        with path.open("w") as out:
            building[db] = subprocess.Popen(
                [sys.executable, script, *flags], stdout=out, stderr=out
            )
    log("preparing both databases in parallel (logs in bench/data/prepare-*.log)")
    failed = {db: proc.wait() for db, proc in building.items()}
    for db, path in logs.items():
        log(path.read_text().rstrip())
        if failed[db]:
            log(f"{DB_LABELS[db]} preparation failed with status {failed[db]}")
            return failed[db]
    reports = []
    for db in DB_LABELS:
        flags = [f"--db={db}", *forwarded] + (["--explain"] if args.explain else [])
        status = subprocess.run([sys.executable, script, *flags], check=False)
        if status.returncode:
            log(f"{DB_LABELS[db]} run failed with status {status.returncode}")
            return status.returncode
        reports.append(json.loads((DATA_DIR / f"results-{db}.json").read_text()))
    log("### Side by side (median / p95 ms)")
    log("")
    sqlite_rows, pg_rows = reports[0]["rows"], reports[1]["rows"]
    body = [
        (
            a["persona"].split(" (")[0],
            a["operation"],
            f"{a['median_ms']:.1f} / {a['p95_ms']:.1f}",
            f"{b['median_ms']:.1f} / {b['p95_ms']:.1f}",
        )
        for a, b in zip(sqlite_rows, pg_rows, strict=True)
    ]
    log(markdown_table(("persona", "operation", "SQLite", "PostgreSQL"), body, right={2, 3}))
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Record-linkage benchmark: link a county's home ledger to the host-side ledger with the
project's engine (`python -m yanxing.linkage`) and with Splink on the same synthetic files, and
compare time, memory and accuracy against the truth.

    .venv/bin/python bench/linkage.py                          # 1,000,000 default + 100,000 hard
    .venv/bin/python bench/linkage.py --sizes 100000 --settings default,hard
    .venv/bin/python bench/linkage.py --skip-splink            # the engine only
    .venv/bin/python bench/linkage.py --splink-max 100000      # Splink only up to that size

Without --sizes/--settings the cases are 1,000,000 rows with the default noise and 100,000 with
the hard noise; with either, every size is run with every setting (defaults 1,000,000 and
"default"). The data comes from `bench.linkagedata` (rates in its docstring) and is reused from
bench/data/linkage/ (--rebuild regenerates it). Splink needs the `bench` extra:
`.venv/bin/pip install -e ".[bench]"`.

Each engine runs as a child process (started by a small launcher, so that the benchmark's own
memory is not counted): wall time from its start to its exit, CPU time (user + system) and peak
memory (maximum resident set, from os.wait4). The 1-minute load average at its start is shown:
above the CPU count, other work shared the machine.

Scoring: a link is right when the truth gives its left and right record the same person (a
person entered twice on the home ledger has two right answers).
Precision = right links / links, recall = right records linked to their person / right records
whose person is on the home ledger, each for the `match` decisions and for match + review.
Splink's links are, for each right record, its most probable left record with probability
>= 0.5: `match` at >= SPLINK_MATCH (0.9), `review` below; the figures at 0.5 and 0.99 are given
too. Results: printed, and written to bench/data/linkage/results-<date>.md and .json (with the
cases in the name when they are not the default ones).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import shlex
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.linkagedata.score import load_truth, score_ours, score_splink  # noqa: E402
from bench.linkagedata.splinkmodel import (  # noqa: E402
    SPLINK_BLOCKING,
    SPLINK_LINK,
    SPLINK_MATCH,
    SPLINK_U_MAX_PAIRS,
)
from bench.tables import markdown_table  # noqa: E402

DATA_DIR = ROOT / "bench" / "data" / "linkage"
ENGINE_COMMAND = [sys.executable, "-m", "yanxing.linkage"]
DEFAULT_CASES = [(1_000_000, "default"), (100_000, "hard")]
#: Splink is scored at these match probabilities too (its `match` threshold is SPLINK_MATCH).
SPLINK_THRESHOLDS = (0.5, 0.9, 0.99)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", help="home-ledger rows, comma-separated (e.g. 100000,1000000)")
    parser.add_argument("--settings", help="noise settings, comma-separated (default,hard)")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--rebuild", action="store_true", help="regenerate the data")
    parser.add_argument("--skip-splink", action="store_true")
    parser.add_argument("--skip-ours", action="store_true", help="run Splink only")
    parser.add_argument(
        "--splink-max",
        type=int,
        default=1_000_000,
        help="largest size Splink is run at (default 1,000,000)",
    )
    parser.add_argument(
        "--engine",
        help="command to run instead of `python -m yanxing.linkage` (it gets --left/--right/--out)",
    )
    parser.add_argument(
        "--timeout", type=float, default=3600, help="seconds before a child is killed"
    )
    return parser.parse_args(argv)


def log(message: str = "") -> None:
    print(message, flush=True)


def cases(args: argparse.Namespace) -> list[tuple[int, str]]:
    if not args.sizes and not args.settings:
        return list(DEFAULT_CASES)
    sizes = [int(s.replace("_", "")) for s in (args.sizes or "1000000").split(",")]
    settings = [s.strip() for s in (args.settings or "default").split(",")]
    from bench.linkagedata import SETTINGS

    unknown = [s for s in settings if s not in SETTINGS]
    if unknown:
        raise SystemExit(f"unknown setting {', '.join(unknown)}; known: {', '.join(SETTINGS)}")
    return [(n, s) for n in sizes for s in settings]


# Children --------------------------------------------------------------------------------------


@dataclass
class ChildRun:
    command: list[str]
    returncode: int
    wall_s: float
    cpu_s: float
    peak_mb: float
    log_path: Path
    load: tuple[float, float]  # 1-minute load average when started and when done

    @property
    def ok(self) -> bool:
        return self.returncode == 0


#: Runs a command and writes its wall time and rusage to a JSON file. The parent holds the truth
#: and may have generated the data, so its resident set is large; Linux hands a process's peak
#: RSS on to a child it spawns (vfork + exec records it into the child's maxrss). A small
#: launcher in between makes the engine's own peak the figure reported.
LAUNCHER = """
import json, os, sys, time
report, command = sys.argv[1], sys.argv[2:]
start = time.perf_counter()
pid = os.posix_spawnp(command[0], command, os.environ)
_, status, usage = os.wait4(pid, 0)
wall = time.perf_counter() - start
with open(report, "w") as out:
    json.dump({"wall_s": wall, "maxrss_kb": usage.ru_maxrss, "user_s": usage.ru_utime,
               "system_s": usage.ru_stime, "status": os.waitstatus_to_exitcode(status)}, out)
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def run_child(command: list[str], log_path: Path, timeout: float) -> ChildRun:
    """Run a command, its output to ``log_path``: its wall time (spawn to exit), CPU time and
    peak RSS (the largest of it and its descendants, as the kernel reports it to wait4)."""
    log(f"  $ {shlex.join(command)}")
    load_before = os.getloadavg()[0]
    report = log_path.with_suffix(".rusage.json")
    report.unlink(missing_ok=True)
    with log_path.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-c", LAUNCHER, str(report), *command],
            cwd=ROOT,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        timer = threading.Timer(timeout, lambda: os.killpg(proc.pid, signal.SIGKILL))
        timer.start()
        try:
            proc.wait()
        finally:
            timer.cancel()
    load = (round(load_before, 2), round(os.getloadavg()[0], 2))
    if not report.exists():  # killed (timeout)
        return ChildRun(command, proc.returncode or -9, timeout, 0.0, 0.0, log_path, load)
    usage = json.loads(report.read_text())
    return ChildRun(
        command,
        usage["status"],
        usage["wall_s"],
        usage["user_s"] + usage["system_s"],
        usage["maxrss_kb"] / 1024,
        log_path,
        load,
    )


def failure(run: ChildRun, timeout: float) -> str:
    return f"timed out after {timeout:g} s" if run.wall_s >= timeout else f"exit {run.returncode}"


def tail(path: Path, lines: int = 12) -> str:
    text = path.read_text(errors="replace").rstrip().splitlines()
    return "\n".join("    " + line for line in text[-lines:])


# The run -------------------------------------------------------------------------------------


def run_case(args: argparse.Namespace, n: int, setting: str) -> dict[str, Any]:
    from bench.linkagedata import Spec, ensure_dataset

    log(f"\n== {n:,} rows, {setting} noise ==")
    start = time.perf_counter()
    dataset = ensure_dataset(Spec(n, setting, args.seed), rebuild=args.rebuild, log=log)
    prepare_s = time.perf_counter() - start
    truth = load_truth(dataset.truth, dataset.meta)
    stem = dataset.spec.stem
    result: dict[str, Any] = {
        "n": n,
        "setting": setting,
        "rows": dataset.meta["rows"],
        "linkable": truth.linkable,
        "generator_seconds": dataset.meta["seconds"],
        "generated_now": dataset.built_now,
        "prepare_seconds": round(prepare_s, 2),
        "stats": dataset.meta["stats"],
        "realized": dataset.meta["realized"]["right"],
        "engines": {},
    }
    log(
        f"  home ledger {dataset.meta['rows']['left']:,} rows, host ledger "
        f"{dataset.meta['rows']['right']:,} rows, {truth.linkable:,} of them linkable"
    )
    files = ["--left", str(dataset.left), "--right", str(dataset.right)]
    if not args.skip_ours:
        out = DATA_DIR / f"links-ours-{stem}.csv"
        out.unlink(missing_ok=True)
        command = (shlex.split(args.engine) if args.engine else ENGINE_COMMAND) + [
            *files,
            "--out",
            str(out),
        ]
        run = run_child(command, DATA_DIR / f"log-ours-{stem}.txt", args.timeout)
        entry: dict[str, Any] = {
            "label": "--engine command" if args.engine else "yanxing.linkage",
            "wall_s": run.wall_s,
            "cpu_s": run.cpu_s,
            "peak_mb": run.peak_mb,
            "returncode": run.returncode,
            "command": shlex.join(run.command),
            "load": run.load,
        }
        log(
            f"  ours: exit {run.returncode}, {run.wall_s:.1f} s (CPU {run.cpu_s:.1f} s), "
            f"peak {run.peak_mb:,.0f} MB "
            f"(load average {run.load[0]} → {run.load[1]})"
        )
        log(tail(run.log_path))
        if run.ok and out.exists():
            entry.update(score_ours(out, truth))
        else:
            entry["error"] = failure(run, args.timeout) + ("" if out.exists() else ", no output")
        result["engines"]["ours"] = entry
    if args.skip_splink:
        pass
    elif n > args.splink_max:
        log(f"  Splink skipped: {n:,} rows > --splink-max {args.splink_max:,}")
    else:
        out = DATA_DIR / f"links-splink-{stem}.csv"
        out.unlink(missing_ok=True)
        command = [
            sys.executable,
            "-m",
            "bench.linkagedata.splinkmodel",
            str(dataset.left),
            str(dataset.right),
            str(out),
            "--seed",
            str(args.seed),
        ]
        run = run_child(command, DATA_DIR / f"log-splink-{stem}.txt", args.timeout)
        entry = {
            "label": "Splink 5.0.0",
            "wall_s": run.wall_s,
            "cpu_s": run.cpu_s,
            "peak_mb": run.peak_mb,
            "returncode": run.returncode,
            "load": run.load,
        }
        log(
            f"  Splink: exit {run.returncode}, {run.wall_s:.1f} s (CPU {run.cpu_s:.1f} s), "
            f"peak {run.peak_mb:,.0f} MB "
            f"(load average {run.load[0]} → {run.load[1]})"
        )
        if run.ok and out.exists():
            details = json.loads(Path(str(out) + ".json").read_text())
            entry["phases"] = details["seconds"]
            entry["scored_pairs"] = details["scored_pairs_above_link_threshold"]
            entry.update(score_splink(out, truth, SPLINK_MATCH, SPLINK_THRESHOLDS))
            log(f"    phases (s): {entry['phases']}")
        else:
            entry["error"] = failure(run, args.timeout)
            log(tail(run.log_path, 25))
        result["engines"]["splink"] = entry
    return result


# Reporting -------------------------------------------------------------------------------------


def pct(value: float) -> str:
    return f"{value * 100:.2f} %"


def main_table(results: list[dict[str, Any]]) -> str:
    headers = (
        "size", "setting", "engine", "wall s", "CPU s", "peak MB", "precision", "recall", "F1",
        "F1 match+review", "pairs", "match", "review", "wall ÷ ours", "load",
    )  # fmt: skip
    body = []
    for r in results:
        ours = r["engines"].get("ours", {})
        for e in r["engines"].values():
            label = e.get("label", "Splink 5.0.0")
            if "match" not in e:
                body.append(
                    (f"{r['n']:,}", r["setting"], label, f"{e['wall_s']:.1f}", f"{e['cpu_s']:.1f}",
                     f"{e['peak_mb']:,.0f}", e.get("error", "failed"), "", "", "", "", "", "", "",
                     load(e))
                )  # fmt: skip
                continue
            ratio = (
                f"{e['wall_s'] / ours['wall_s']:.1f}×"
                if ours.get("wall_s") and "match" in ours
                else ""
            )
            body.append(
                (
                    f"{r['n']:,}",
                    r["setting"],
                    label,
                    f"{e['wall_s']:.1f}",
                    f"{e['cpu_s']:.1f}",
                    f"{e['peak_mb']:,.0f}",
                    pct(e["match"]["precision"]),
                    pct(e["match"]["recall"]),
                    pct(e["match"]["f1"]),
                    pct(e["match_review"]["f1"]),
                    f"{e['match_review']['links']:,}",
                    f"{e['decisions'].get('match', 0):,}",
                    f"{e['decisions'].get('review', 0):,}",
                    ratio,
                    load(e),
                )
            )
    return markdown_table(headers, body, right=set(range(3, 15)))


def load(entry: dict[str, Any]) -> str:
    """The 1-minute load average when the child started (other work on the machine)."""
    return f"{entry['load'][0]:.1f}" if entry.get("load") else ""


def phases_table(results: list[dict[str, Any]]) -> str:
    """Where Splink's time goes, measured inside its process (reading the CSVs to writing the
    links; the wall time above also counts starting Python and importing Splink)."""
    headers = (
        "size",
        "setting",
        "read CSV",
        "train",
        "predict",
        "best match",
        "write",
        "pairs scored",
    )
    body = []
    for r in results:
        e = r["engines"].get("splink", {})
        if "phases" in e:
            p = e["phases"]
            body.append(
                (f"{r['n']:,}", r["setting"], *(f"{p[k]:.1f} s" for k in
                 ("read", "train", "predict", "best", "write")), f"{e['scored_pairs']:,}")
            )  # fmt: skip
    return markdown_table(headers, body, right=set(range(2, 8))) if body else ""


def threshold_table(results: list[dict[str, Any]]) -> str:
    headers = (
        "size",
        "setting",
        "threshold",
        "links",
        "precision",
        "recall",
        "F1",
        "wrong",
        "unknown linked",
    )
    body = []
    for r in results:
        e = r["engines"].get("splink", {})
        for t, f in e.get("thresholds", {}).items():
            body.append(
                (f"{r['n']:,}", r["setting"], f"p ≥ {t}", f"{f['links']:,}", pct(f["precision"]),
                 pct(f["recall"]), pct(f["f1"]), f"{f['wrong']:,}", f"{f['unknown_linked']:,}")
            )  # fmt: skip
    return markdown_table(headers, body, right=set(range(3, 9))) if body else ""


def errors_table(results: list[dict[str, Any]]) -> str:
    """Recall of `match` links among linkable right records with each error."""
    columns = [
        (r, name) for r in results for name, e in r["engines"].items() if "recall_by_noise" in e
    ]
    if not columns:
        return ""
    flags: list[str] = []
    for r, name in columns:
        for flag in r["engines"][name]["recall_by_noise"]:
            if flag not in flags:
                flags.append(flag)
    headers = (
        "error",
        *(f"{r['n']:,} {r['setting']} {'ours' if n == 'ours' else 'Splink'}" for r, n in columns),
    )
    body = []
    for flag in flags:
        share = ""
        if flag != "(all)" and len({r["setting"] for r, _ in columns}) == 1:
            share = f" ({columns[0][0]['realized'].get(flag, 0) * 100:.1f} %)"
        cells = [flag + share]
        for r, n in columns:
            value = r["engines"][n]["recall_by_noise"].get(flag)
            cells.append("" if value is None else pct(value))
        body.append(tuple(cells))
    return markdown_table(headers, body, right=set(range(1, len(headers))))


def machine() -> str:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for text in cpuinfo.read_text().splitlines():
            if text.startswith("model name"):
                cpu = text.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kb = int(meminfo.read_text().split()[1])
        memory = f", {kb / 2**20:.0f} GiB RAM"
    return (
        f"{os.cpu_count()} CPUs ({cpu}){memory}, Python {platform.python_version()}, "
        f"{platform.system()} {platform.release()}"
    )


def report(results: list[dict[str, Any]], args: argparse.Namespace) -> str:

    from bench.linkagedata import rates_table

    generator = ", ".join(
        f"{r['n']:,} {r['setting']}: {r['generator_seconds']['total']:.1f} s"
        + ("" if r["generated_now"] else " (stored)")
        for r in results
    )
    parts = [
        f"# Record linkage benchmark, {dt.date.today().isoformat()}",
        "",
        f"- machine: {machine()}",
        f"- seed {args.seed}; generator (generate + write CSV): {generator}",
        f"- Splink: `match` at p ≥ {SPLINK_MATCH}, links kept from p ≥ {SPLINK_LINK}; "
        f"u from up to {SPLINK_U_MAX_PAIRS:.0e} random pairs; m by EM on id_number and "
        "name+birth_date blocks; blocking on "
        + "; ".join(" + ".join(rule) for rule in SPLINK_BLOCKING),
        f"- load: the 1-minute load average when the engine started ({os.cpu_count()} CPUs; "
        "above that, other work shared the machine and wall times are longer than alone)",
        "",
        main_table(results),
    ]
    phases = phases_table(results)
    if phases:
        parts += ["", "Splink, inside its process (pairs scored: p >= 0.5):", "", phases]
    thresholds = threshold_table(results)
    if thresholds:
        parts += ["", "Splink at other thresholds:", "", thresholds]
    errors = errors_table(results)
    if errors:
        parts += ["", "Recall of `match` links by error on the right record:", "", errors]
    parts += ["", "Error rates on the right copies:", "", rates_table()]
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    log(f"machine: {machine()}")
    results = [run_case(args, n, setting) for n, setting in cases(args)]
    text = report(results, args)
    log("")
    log(text)
    stamp = dt.date.today().isoformat()
    chosen = cases(args)
    if chosen != DEFAULT_CASES:
        stamp += "-" + "-".join(f"n{n}-{setting}" for n, setting in chosen)
    (DATA_DIR / f"results-{stamp}.md").write_text(text + "\n")
    (DATA_DIR / f"results-{stamp}.json").write_text(
        json.dumps(
            {"machine": machine(), "seed": args.seed, "results": results},
            ensure_ascii=False,
            indent=2,
        )
    )
    log(f"\nwritten: {(DATA_DIR / f'results-{stamp}.md').relative_to(ROOT)} (and .json)")
    failed = [
        f"{r['n']} {r['setting']} {name}"
        for r in results
        for name, e in r["engines"].items()
        if "error" in e
    ]
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())

"""`python -m bench.roster [N] [--postgres]`: importing an HR roster of N people (default
100,000) with `pilotscale people import`, as a user runs it (a real process).

Four imports into a fresh store: the first (everyone added), the same file again
(nothing changes), a later roster (1 % left, 1 % joined, 1 % moved department), and a
file with an error on every 1,000th row (refused, nothing written). Each one's wall time
and peak resident memory (of the importing process) is printed as a Markdown table,
then the time to read the engine's plan with the roster's people in it.

Target: 100,000 rows well under a minute, with memory that does not grow with the file
(the file is streamed and written in chunks of 2,000).
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

DEPARTMENTS = 20


def plan_text(count: int) -> str:
    per = count // DEPARTMENTS
    departments = "".join(
        f"  - {{name: d{n:02d}, title: Department {n}, headcount: {per}, wave: 1, "
        f"sponsor: eva.exec}}\n"
        for n in range(DEPARTMENTS)
    )
    return (
        "version: 1\n"
        "program:\n"
        "  name: bench\n  title: Roster bench\n  sponsor: eva.exec\n  lead: leo.lead\n"
        "  budget: {pilot_budget: 1, approved_scale_budget: 1000000, cost_per_user_month: 1}\n"
        "  schedules: {readiness_check: '0 9 * * 1', weekly_digest: '0 8 * * 1'}\n"
        "phases:\n  - name: planned\n  - name: piloting\n    min_soak: 1w\n"
        "  - name: operating\n"
        "departments:\n" + departments + "people:\n"
        "  - {id: eva.exec, name: Eva, email: eva@bench.example, roles: [sponsor]}\n"
        "  - {id: leo.lead, name: Leo, email: leo@bench.example, roles: [lead]}\n"
    )


def write_roster(path: Path, count: int, *, shift: int = 0, broken: bool = False) -> None:
    """`count` people; `shift` % of them replaced and moved (a later roster)."""
    left = set(range(0, count, 100)) if shift else set()
    moved = set(range(1, count, 100)) if shift else set()
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["id", "name", "email", "department", "segment", "manager", "locale"])
        for i in range(count):
            ident = f"n{i:07d}" if i in left else f"e{i:07d}"
            department = (i + (1 if i in moved else 0)) % DEPARTMENTS
            segment = ("power", "casual", "casual", "casual", "none")[i % 5]
            if broken and i % 1000 == 999:
                segment = "casul"
            writer.writerow(
                [ident, f"Person {i}", f"{ident}@bench.example", f"d{department:02d}", segment,
                 f"e{i // 10:07d}", "es-ES"]
            )  # fmt: skip


def run(url: str, cwd: Path, *args: str) -> tuple[float, float, str]:
    """Wall seconds, the child's peak RSS (MB) and its last output line."""
    env = {**os.environ, "PILOTSCALE_DATABASE_URL": url, "PILOTSCALE_DATA_DIR": str(cwd)}
    script = (
        "import resource, sys, runpy\n"
        "sys.argv = ['pilotscale', *sys.argv[1:]]\n"
        "try:\n    runpy.run_module('pilotscale.cli', run_name='__main__')\n"
        "finally:\n"
        "    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "    print(f'RSS {rss}', file=sys.stderr)\n"
    )
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-c", script, *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    elapsed = time.perf_counter() - started
    rss = next(
        (int(line.split()[1]) / 1024 for line in done.stderr.splitlines() if line[:4] == "RSS "),
        float("nan"),
    )
    said = done.stdout.splitlines() or [
        line for line in done.stderr.splitlines() if line[:4] != "RSS "
    ]
    return elapsed, rss, (said[-1] if said else f"exit {done.returncode}")


@contextmanager
def store(postgres: bool, directory: Path) -> Iterator[str]:
    if not postgres:
        yield f"sqlite:///{directory / 'store.db'}"
        return
    import psycopg

    admin = "postgresql://postgres@127.0.0.1:5432/postgres"
    name = f"bench_roster_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(admin, autocommit=True) as connection:
        connection.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(admin, autocommit=True) as connection:
            connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def plan_read_seconds(url: str) -> float:
    os.environ["PILOTSCALE_DATABASE_URL"] = url
    from sqlmodel import Session

    from pilotscale.db import get_engine
    from pilotscale.store.queries import forget_parsed_plans, get_program, load_program_plan

    engine = get_engine(url)
    forget_parsed_plans()
    with Session(engine) as session:
        program = get_program(session=session, name=None)
        started = time.perf_counter()
        plan = load_program_plan(session=session, program=program)
        elapsed = time.perf_counter() - started
    assert len(plan.people) > 1
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("count", nargs="?", type=int, default=100_000)
    parser.add_argument("--postgres", action="store_true", help="PostgreSQL at 127.0.0.1:5432")
    options = parser.parse_args()
    count = options.count
    with tempfile.TemporaryDirectory() as scratch, store(options.postgres, Path(scratch)) as url:
        cwd = Path(scratch)
        (cwd / "plan.yaml").write_text(plan_text(count), encoding="utf-8")
        write_roster(cwd / "first.csv", count)
        write_roster(cwd / "later.csv", count, shift=1)
        write_roster(cwd / "broken.csv", count, broken=True)
        run(url, cwd, "apply", "plan.yaml")
        imports = {
            "first import": "first.csv",
            "same file again": "first.csv",
            "later roster (1 % left, joined, moved)": "later.csv",
            "a problem every 1,000 rows (refused)": "broken.csv",
        }
        rows = [(label, *run(url, cwd, "people", "import", f)) for label, f in imports.items()]
        size = (cwd / "first.csv").stat().st_size / 1e6
        store_name = "PostgreSQL" if options.postgres else "SQLite"
        print(f"### {count:,} people ({size:.1f} MB of CSV), {store_name}\n")
        print("| import | seconds | peak RSS (MB) | says |\n|---|---:|---:|---|")
        for label, seconds, rss, said in rows:
            print(f"| {label} | {seconds:.1f} | {rss:.0f} | {said[:110]} |")
        print(f"\nreading the engine's plan with {count:,} roster people: "
              f"{plan_read_seconds(url):.2f} s")  # fmt: skip


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_NOFILE, resource.getrlimit(resource.RLIMIT_NOFILE))
    main()

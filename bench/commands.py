"""`python -m bench.commands`: the read commands a lead runs, timed as they run them.

    python -m bench.commands [--departments 2000] [--store sqlite|postgres|both]
                             [--repeats 3] [--keep DIR] [--url URL]

Builds a store of N departments (`bench.generate`: the plan, five weeks of metric
observations, attestations, approvals, training and champions), runs one readiness
check on it (`run_readiness_check`, without Prefect) so that it also holds transitions,
gate results and queued messages, and then runs `pilotscale status`, `pilotscale status
--json` and `pilotscale report --out FILE` in their own processes, each `--repeats`
times after one untimed run. Printed per command: the fastest wall time, the peak RSS of
the worst run (from wait4), and both against the budget of issue 13 item 9.

The commands run with Python's bytecode cache, as on any installed machine (pip writes
it at install): PYTHONDONTWRITEBYTECODE is dropped for them, and the untimed first run
writes the cache of the modules an editable install keeps in the source tree. Without
it every run compiled some seventy of pilotscale's modules again, 0.1 s of each command.

`--keep DIR` builds the stores into DIR and leaves them there (a PostgreSQL store as the
database its URL names), with each command's output; `--url URL` measures a store a
`--keep` run left instead of building one.
"""

from __future__ import annotations

import argparse
import os
import shlex
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from bench import runner
from bench.generate import DEFAULT_SEED, NOW
from bench.stores import PostgresStores, SqliteStores, Stores, postgres_reachable

AS_OF = NOW.strftime("%Y-%m-%dT%H:%MZ")


@dataclass(frozen=True)
class Budget:
    seconds: float
    mb: float | None = None  # None: no memory budget


# Issue 13 item 9: status ≤ 1.5 s; report ≤ 6 s and ≤ 250 MB peak, at 2,000 departments.
BUDGETS = {
    "status": Budget(1.5),
    "status --json": Budget(1.5),
    "report": Budget(6.0, 250.0),
}


@dataclass(frozen=True)
class Measured:
    command: str
    seconds: float  # the fastest run
    mb: float  # the highest peak RSS of any run
    runs: list[float]
    output: bytes  # stdout of the last run (the report: the page it wrote)


def arguments(command: str, out: Path) -> list[str]:
    """The command line of `command`, as a user types it (the installed entry point)."""
    words = {
        "status": ["status"],
        "status --json": ["status", "--json"],
        "report": ["report", "--out", str(out)],
    }[command]
    return [*_pilotscale(), *words, "--as-of", AS_OF]


def _pilotscale() -> list[str]:
    script = Path(sys.executable).with_name("pilotscale")
    return [str(script)] if script.exists() else [sys.executable, "-m", "pilotscale.cli"]


def run_command(command: str, *, url: str, workdir: Path, env: dict[str, str]) -> Measured:
    """One run of `command` in a process of its own: (seconds, peak MB, output)."""
    page, out_path, err_path = workdir / "report.html", workdir / "out.txt", workdir / "err.txt"
    started = time.perf_counter()
    with out_path.open("wb") as out, err_path.open("wb") as err:
        process = subprocess.Popen(
            arguments(command, page),
            stdout=out,
            stderr=err,
            env=command_environment(env, url),
        )
        # Reaped here, not by Popen: wait4 gives this process's own peak RSS.
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        tail = err_path.read_text(errors="replace")[-400:]
        raise RuntimeError(f"{command} exited {process.returncode}: {tail}")
    output = page.read_bytes() if command == "report" else out_path.read_bytes()
    return Measured(command, seconds, usage.ru_maxrss / 1024, [seconds], output)


def command_environment(env: dict[str, str], url: str) -> dict[str, str]:
    """The environment a command runs in: this one's, with the bytecode cache allowed."""
    out = {**os.environ, **env, "PILOTSCALE_DATABASE_URL": url, "COLUMNS": "160"}
    out.pop("PYTHONDONTWRITEBYTECODE", None)
    return out


def measure(
    command: str, *, url: str, workdir: Path, env: dict[str, str], repeats: int
) -> Measured:
    run_command(command, url=url, workdir=workdir, env=env)  # writes the bytecode cache
    runs = [run_command(command, url=url, workdir=workdir, env=env) for _ in range(repeats)]
    return Measured(
        command,
        min(r.seconds for r in runs),
        max(r.mb for r in runs),
        [r.seconds for r in runs],
        runs[-1].output,
    )


def build(
    stores: Stores, departments: int, *, workdir: Path, env: dict[str, str], seed: int
) -> str:
    """A store of `departments` departments after one readiness check; its URL."""
    url = stores.new_pristine(departments)
    for job, extra in (
        ("generate", {"departments": departments, "seed": seed}),
        ("decide-apply", {}),
    ):
        done = runner.run(
            job,
            workdir=workdir,
            timeout=1800,
            env={**env, "PILOTSCALE_DATABASE_URL": url},
            url=url,
            **extra,
        )
        if not done.ok:
            raise RuntimeError(f"{stores.kind} {job} failed: {done.error}")
    return url


def environment(workdir: Path) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(workdir / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PILOTSCALE_DATA_DIR": str(workdir / "data"),
        "PILOTSCALE_OUTBOX_DIR": str(workdir / "outbox"),
    }


def table(results: dict[str, list[Measured]], repeats: int) -> str:
    kinds = list(results)
    lines = [
        "| command | " + " | ".join(kinds) + " | budget |",
        "|---|" + "---|" * len(kinds) + "---|",
    ]
    for command, budget in BUDGETS.items():
        cells = []
        for kind in kinds:
            found = next((m for m in results[kind] if m.command == command), None)
            if found is None:
                cells.append("—")
                continue
            cell = f"{found.seconds:.2f} s ({found.seconds / budget.seconds:.2f}×)"
            if budget.mb is not None:
                cell += f", {found.mb:.0f} MB ({found.mb / budget.mb:.2f}×)"
            else:
                cell += f", {found.mb:.0f} MB"
            cells.append(cell)
        limit = f"≤ {budget.seconds:g} s" + (f", ≤ {budget.mb:g} MB" if budget.mb else "")
        lines.append(f"| `pilotscale {command}` | " + " | ".join(cells) + f" | {limit} |")
    lines.append("")
    lines.append(
        f"Seconds: the fastest of {repeats} runs after an untimed one (wall time of the whole "
        "process, start-up included); MB: the highest peak RSS of those runs; (×): the ratio "
        "to the budget."
    )
    return "\n".join(lines)


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.commands", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--departments", type=int, default=2000)
    parser.add_argument("--store", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--keep", type=Path, default=None, help="build into DIR and keep it")
    parser.add_argument("--url", default=None, help="measure this (kept) store, build none")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    workdir = (args.keep or Path(tempfile.mkdtemp(prefix="pilotscale-cmds-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    env = environment(workdir)
    started = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {line}", file=sys.stderr, flush=True)

    kinds = ["sqlite", "postgres"] if args.store == "both" else [args.store]
    if "postgres" in kinds and not postgres_reachable():
        say("PostgreSQL is not reachable at 127.0.0.1:5432: SQLite only")
        kinds.remove("postgres")
    if args.url:
        kinds = ["postgres" if args.url.startswith("postgres") else "sqlite"]
    results: dict[str, list[Measured]] = {}
    try:
        for kind in kinds:
            stores: Stores = SqliteStores(workdir) if kind == "sqlite" else PostgresStores()
            try:
                if args.url:
                    url = args.url
                else:
                    say(f"{kind}: building a store of {args.departments} departments")
                    url = build(stores, args.departments, workdir=workdir, env=env, seed=args.seed)
                    say(f"  {kind} store: {url}")
                folder = workdir / kind
                folder.mkdir(exist_ok=True)
                results[kind] = []
                for command in BUDGETS:
                    found = measure(command, url=url, workdir=folder, env=env, repeats=args.repeats)
                    say(
                        f"  {kind} {command}: {found.seconds:.2f} s "
                        f"({', '.join(f'{s:.2f}' for s in found.runs)}), {found.mb:.0f} MB"
                    )
                    name = command.replace(" --", "-") + (
                        ".html" if command == "report" else ".txt"
                    )
                    (folder / name).write_bytes(found.output)
                    results[kind].append(found)
            finally:
                if kind == "postgres" and not (args.keep or args.url):
                    stores.cleanup()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    command = "python -m bench.commands " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    print(f"Command: `{command.strip()}`; {args.departments} departments, as of {AS_OF}.\n")
    print(table(results, args.repeats))
    over = [
        f"{kind} {m.command}"
        for kind, found in results.items()
        for m in found
        if m.seconds > BUDGETS[m.command].seconds
        or (BUDGETS[m.command].mb is not None and m.mb > (BUDGETS[m.command].mb or 0))
    ]
    return 1 if over else 0


if __name__ == "__main__":
    sys.exit(main())

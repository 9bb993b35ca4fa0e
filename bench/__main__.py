"""`python -m bench`: pilotscale against the lower bound and the naive design, in one run.

    python -m bench [--departments 1000] [--store sqlite|postgres|both] [--quick]

Every figure comes from a fresh worker process on a fresh copy of the same generated
store; the tables are printed (Markdown) and, with --output, written to a file.
"""

from __future__ import annotations

import argparse
import os
import platform
import shlex
import shutil
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

from bench import report, runner
from bench.generate import DEFAULT_SEED
from bench.runner import PROFILE_ENV
from bench.scenario import Config, StoreResults, base_env, measure
from bench.stores import PostgresStores, SqliteStores, Stores, postgres_reachable


def parse(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--departments", type=int, default=None, help="default 1000 (quick: 50)")
    parser.add_argument(
        "--store",
        choices=["sqlite", "postgres", "both"],
        default=None,
        help="default both (quick: sqlite)",
    )
    parser.add_argument("--quick", action="store_true", help="a smoke run of about a minute")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--timeout", type=float, default=None, help="seconds per measurement")
    parser.add_argument("--output", type=Path, default=None, help="also write the report here")
    parser.add_argument("--keep", action="store_true", help="keep the stores and worker logs")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        help="write a py-spy profile of every measurement into this folder (read them with "
        "`python -m bench.hotspots FILE`; sampling slows the measurements a little)",
    )
    return parser.parse_args(argv)


def config_for(args: argparse.Namespace, workdir: Path) -> Config:
    n = args.departments or (50 if args.quick else 1000)
    if n < 4:
        raise SystemExit("--departments must be at least 4")
    # Growth: N/4 .. 2N in doublings (quick: N/2 and N).
    sizes = sorted({n // 2, n} if args.quick else {n // 4, n // 2, n, 2 * n})
    return Config(
        departments=n,
        sizes=[s for s in sizes if s >= 2],
        naive_departments=min(3 if args.quick else 20, n),
        dispatch_messages=500 if args.quick else 10_000,
        apprise_messages=2 if args.quick else 5,
        timeout=args.timeout or (300.0 if args.quick else 900.0),
        seed=args.seed,
        workdir=workdir,
    )


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    return (
        f"{os.cpu_count()} CPUs ({model}), {memory:.1f} GiB memory, "
        f"Python {platform.python_version()}, {platform.system()} {platform.release()}; "
        f"load average at the end of the run: {load}"
    )


def main(argv: list[str] | None = None) -> int:
    args = parse(sys.argv[1:] if argv is None else argv)
    workdir = Path(tempfile.mkdtemp(prefix="pilotscale-bench-"))
    if args.profile:
        os.environ[PROFILE_ENV] = str(args.profile.resolve())
    config = config_for(args, workdir)
    started = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {line}", file=sys.stderr, flush=True)

    store = args.store or ("sqlite" if args.quick else "both")
    kinds = ["sqlite", "postgres"] if store == "both" else [store]
    if "postgres" in kinds and not postgres_reachable():
        say("PostgreSQL is not reachable at 127.0.0.1:5432: SQLite only")
        kinds.remove("postgres")
        if not kinds:
            return 2
    results: list[StoreResults] = []
    try:
        # Prefect's own database is created once, so start-up figures don't include it.
        runner.run("prefect-warm-up", workdir=workdir, timeout=600, env=base_env(config))
        for kind in kinds:
            stores: Stores = SqliteStores(workdir) if kind == "sqlite" else PostgresStores()
            try:
                results.append(measure(stores, config, say))
            finally:
                if not args.keep:
                    stores.cleanup()
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    text = render(results, config, args, time.perf_counter() - started)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    differ = [label for r in results for label, ok, _ in r.agreement if ok is False]
    return 1 if differ else 0


def render(
    results: list[StoreResults], config: Config, args: argparse.Namespace, took: float
) -> str:
    command = "python -m bench " + " ".join(shlex.quote(a) for a in sys.argv[1:])
    return "\n".join(
        [
            f"Date: {datetime.now(UTC):%Y-%m-%d %H:%M} UTC; run took {took / 60:.1f} min.",
            f"Command: `{command.strip()}`",
            f"Machine: {machine()}",
            "",
            "### Side by side",
            "",
            report.side_by_side(results, config),
            "",
            "### Growth",
            "",
            report.growth(results, config),
            "### Targets",
            "",
            report.targets(results, config),
            "",
            "### Same decisions",
            "",
            report.agreement(results),
        ]
    )


if __name__ == "__main__":
    sys.exit(main())

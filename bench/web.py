"""`python -m bench.web`: the web app's pages at N departments, server time per page, side
by side with `pilotscale status --json`'s query time on the same store, in one run.

    python -m bench.web [--departments 1000] [--repeats 15] [--keep DIR]

`--keep DIR` builds the store into DIR and leaves it there; run again with the same DIR,
it measures that store instead of building one.

Builds a SQLite store of N departments (`bench.generate`, then one readiness check so it
also holds transitions and gate results), then times in this process, each the median of
`--repeats` after one warm-up (a running server has the plan parsed already):

- status --json's query: the owners-only view and `engine.verdicts.read_verdicts`, what
  `pilotscale status --json` reads (its process start-up and printing excluded);
- the program board (`GET /`) as served while the store is unchanged (the app keeps the
  page: `pilotscale.web.board_cache`), a held department's page (`GET /d/NAME`), the
  lead's "my actions" (`GET /me/TOKEN`): requests through the ASGI app (FastAPI's
  TestClient, no network), reading and rendering included;
- the board recomputed after a change (verdicts read again, forecasts kept: what the
  first refresh after any write pays) and from scratch (forecasts too: a new server);

and, for scale, the whole `pilotscale status --json` process once. Targets (issue 15):
the board within 2x status --json's query time, and under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sqlmodel import Session

from bench.generate import DEFAULT_SEED, NOW, generate
from bench.plan import LEAD

BOARD_RATIO = 2.0
BOARD_MS = 300.0


def median_ms(action: Callable[[], object], repeats: int) -> tuple[float, list[float]]:
    action()  # warm-up: the plan parsed once, as in a running server
    runs = []
    for _ in range(repeats):
        started = time.perf_counter()
        action()
        runs.append((time.perf_counter() - started) * 1000)
    return statistics.median(runs), runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m bench.web", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--departments", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--keep", type=Path, default=None, help="build the store into DIR")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)

    from fastapi.testclient import TestClient

    from pilotscale.db import get_engine
    from pilotscale.engine.check import run_readiness_check
    from pilotscale.engine.verdicts import read_verdicts
    from pilotscale.links import Link, Purpose, Signer
    from pilotscale.settings import Settings
    from pilotscale.store.snapshot import load_view
    from pilotscale.web.webapp import create_app

    workdir = (args.keep or Path(tempfile.mkdtemp(prefix="pilotscale-web-"))).resolve()
    workdir.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{workdir / 'store.db'}"
    started = time.perf_counter()

    def say(line: str) -> None:
        print(f"[{time.perf_counter() - started:7.1f}s] {line}", file=sys.stderr, flush=True)

    reuse = (workdir / "store.db").exists()
    engine = get_engine(url)
    if reuse:  # a store a --keep run left: measured again as it is
        say(f"measuring the store {url} kept by an earlier run")
    else:
        say(f"generating {args.departments} departments into {url}")
        generate(engine=engine, departments=args.departments, seed=DEFAULT_SEED)
        run_readiness_check(engine=engine, now=NOW)
        say("store ready")

    def status_query() -> int:
        with Session(engine, expire_on_commit=False) as session:
            view = load_view(session=session, owners_only=True)
            return len(read_verdicts(session=session, view=view, now=NOW))

    signer = Signer("bench-link-key-0123456789")
    app = create_app(engine=engine, signer=signer, clock=lambda: NOW, settings=Settings())
    client = TestClient(app)
    board = client.get("/")
    held = board.text.split('id="held-table"', 1)[1].split('href="/d/', 1)[1].split('"', 1)[0]
    mine = "/me/" + signer.sign(Link(Purpose.mine, LEAD))

    def page(path: str) -> Callable[[], object]:
        def get() -> object:
            answer = client.get(path)
            assert answer.status_code == 200, (path, answer.status_code)
            return answer

        return get

    from pilotscale.web.board_cache import BoardCache

    def recomputed() -> object:
        return changed.page(engine=engine, now=NOW, render=render_board)

    def from_scratch() -> object:
        return BoardCache().page(engine=engine, now=NOW, render=render_board)

    from pilotscale.web.rendering import page_text

    def render_board(data: Any) -> bytes:
        return page_text("board.html.j2", zone=data.timezone, refresh=30, b=data).encode()

    changed = BoardCache(page_seconds=0.0)  # every call recomputes; forecasts are kept

    status_ms, status_runs = median_ms(status_query, args.repeats)
    say(f"status --json query: {status_ms:.0f} ms")
    board_ms, board_runs = median_ms(page("/"), args.repeats)
    say(f"board, served: {board_ms:.0f} ms")
    changed_ms, changed_runs = median_ms(recomputed, args.repeats)
    say(f"board, recomputed after a change: {changed_ms:.0f} ms")
    scratch_ms, scratch_runs = median_ms(from_scratch, max(3, args.repeats // 3))
    say(f"board, from scratch: {scratch_ms:.0f} ms")
    dept_ms, dept_runs = median_ms(page(f"/d/{held}"), args.repeats)
    say(f"department page ({held}): {dept_ms:.0f} ms")
    mine_ms, mine_runs = median_ms(page(mine), args.repeats)
    say(f"my actions (the lead): {mine_ms:.0f} ms")

    script = Path(sys.executable).with_name("pilotscale")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "pilotscale.cli"]
    began = time.perf_counter()
    subprocess.run(
        [*command, "status", "--json", "--as-of", NOW.strftime("%Y-%m-%dT%H:%MZ")],
        env={**os.environ, "PILOTSCALE_DATABASE_URL": url},
        stdout=subprocess.DEVNULL,
        check=True,
    )
    process_ms = (time.perf_counter() - began) * 1000

    ratio = changed_ms / status_ms
    met = ratio <= BOARD_RATIO and board_ms < BOARD_MS
    lines = [
        f"N = {args.departments} departments, SQLite, median of {args.repeats} after a warm-up",
        "",
        "| measure | median | runs (min–max) |",
        "|---|---|---|",
        _row("`status --json` query (owners-only view + read_verdicts)", status_runs),
        _row("program board `GET /`, served (store unchanged since last computed)", board_runs),
        _row("program board recomputed after a change (verdicts; forecasts kept)", changed_runs),
        _row("program board from scratch (verdicts and forecasts: a new server)", scratch_runs),
        _row(f"department page `GET /d/{held}`", dept_runs),
        _row("my actions of the lead `GET /me/TOKEN`", mine_runs),
        f"| whole `pilotscale status --json` process, once | {process_ms:.0f} ms | — |",
        "",
        f"Board recomputed / status --json query: **{ratio:.2f}×** (target ≤ "
        f"{BOARD_RATIO:g}×; from scratch {scratch_ms / status_ms:.2f}×); board served in "
        f"{board_ms:.0f} ms (target < {BOARD_MS:g} ms): **{'met' if met else 'missed'}**.",
    ]
    print("\n".join(lines))
    return 0 if met else 1


def _row(label: str, runs: list[float]) -> str:
    return f"| {label} | {statistics.median(runs):.0f} ms | {min(runs):.0f}–{max(runs):.0f} ms |"


if __name__ == "__main__":
    raise SystemExit(main())

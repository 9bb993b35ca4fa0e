"""The installed `pilotscale` command (and `python -m pilotscale.cli`).

Three things make a read command answer sooner, each measured (`bench/cli_latency.py`):

- Only the module of the command it runs is imported (`commands.only_for`).
- A command imports SQLAlchemy, SQLModel, pydantic and its own tables and plan schema:
  about 100,000 objects that all live until it exits. Python's cyclic collector walks
  them again and again while they are made, a tenth of a read command's import time
  (0.48 s → 0.43 s for `import pilotscale.cli.main, pilotscale.engine.verdicts`), and
  frees nothing, since imports leave no garbage cycles. So the collector is off while
  the command imports and answers; one still running after `SHORT_COMMAND_S` (a
  readiness check, a dispatch, the web app) gets it back, so a long run's cycles are
  collected as usual.
- Nothing is collected at exit (below).
"""

from __future__ import annotations

import gc
import sys
import threading

SHORT_COMMAND_S = 2.0


def main() -> None:
    from pilotscale.gcpause import enable_after_pauses

    gc.disable()
    # Not in the middle of a block that paused the collector on purpose (`gcpause`).
    back = threading.Timer(SHORT_COMMAND_S, enable_after_pauses)
    back.daemon = True  # never keeps a finished command waiting
    back.start()
    from pilotscale.cli import commands

    commands.only_for(sys.argv[1:])
    from pilotscale.cli.main import main as run

    try:
        run()
    finally:
        # The store's connections are closed here, as that last collection would have
        # closed them: SQLite checkpoints its write-ahead log into the database file when
        # the last connection closes, and PostgreSQL sees a goodbye, not a dropped client.
        db = sys.modules.get("pilotscale.db")
        if db is not None:
            db.dispose_engines()
        # Python's shutdown collects cycles once more over everything still alive, even
        # with the collector off: 0.1 s of a 0.55 s `status`. Frozen objects are left to
        # the process's end; every exit handler still runs (Prefect's event flush too).
        gc.freeze()

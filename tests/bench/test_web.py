"""`python -m bench.web` runs end to end on a small store and prints its table."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench import web
from pilotscale.db import dispose_engines


def test_the_web_bench_runs_on_a_small_store(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = web.main(["--departments", "20", "--repeats", "1", "--keep", str(tmp_path)])
    dispose_engines()

    out = capsys.readouterr().out
    assert code in (0, 1)  # met or missed: the table says which
    for row in ("`status --json` query", "program board `GET /`, served", "department page"):
        assert row in out
    assert "Board recomputed / status --json query:" in out

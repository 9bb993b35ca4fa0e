"""`read_department`: one department's page, read in one session."""

from __future__ import annotations

from pathlib import Path

import pytest

from pilotscale.db import dispose_engines, get_engine
from pilotscale.engine import operator
from pilotscale.engine.acting import cli_actor
from pilotscale.engine.department_view import read_department
from pilotscale.store.queries import NotFound
from tests.pilotscale.web.example import NOW, build_store


def test_a_department_page(tmp_path: Path) -> None:
    engine = get_engine(f"sqlite:///{tmp_path / 'store.db'}")
    build_store(engine)
    operator.acknowledge(
        engine=engine,
        department="hr",
        champion="carmen.diaz",
        actor=cli_actor("carmen.diaz"),
        now=NOW,
    )

    page = read_department(engine=engine, department="hr", now=NOW)
    cs = read_department(engine=engine, department="customer-service", now=NOW)

    assert page.started
    assert page.verdict is not None
    assert [c.person for c in page.champions if c.acknowledged_at] == ["carmen.diaz"]
    assert {c.person for c in page.champions} == {"ana.ruiz", "carmen.diaz"}
    assert [t.event for t in page.history][-1] == "start"
    assert page.training == []  # training is assigned on entering piloting
    assert {(a.gate, a.approver) for a in cs.pending_approvals} == {
        ("executive-go-ahead", "elena.garcia"),
        ("executive-go-ahead", "maria.lopez"),
    }
    with pytest.raises(NotFound) as refused:
        read_department(engine=engine, department="finance", now=NOW)
    assert "sales" in refused.value.known
    dispose_engines()

"""The training figures (`store.fact_queries._training`) equal a naive count over the rows,
on SQLite and PostgreSQL: per department and trainee segment, the active people, those
with modules assigned by `now` in that department and segment, and those who completed
all of them by `now`. People who left, moved department or segment, or are no trainees
count nowhere; their assignments stay as history."""

from __future__ import annotations

import random
from collections import defaultdict
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlmodel import Session, select

from pilotscale.core.facts import TrainingFact
from pilotscale.core.roster import TRAINEE_SEGMENTS
from pilotscale.models import Department, Person, TrainingAssignment
from pilotscale.store.fact_queries import _training
from tests.pilotscale.engine import helpers as h

NOW = datetime(2026, 11, 23, 7, 0, tzinfo=UTC)
SEGMENTS = (*TRAINEE_SEGMENTS, "none")
# Instants around NOW: an assignment or completion after it does not count yet.
MOMENTS = [NOW - timedelta(days=3), NOW - timedelta(seconds=1), NOW, NOW + timedelta(hours=1)]


def _naive(
    people: list[Person], assignments: list[TrainingAssignment], ids: set[int]
) -> dict[int, dict[str, TrainingFact]]:
    mine: dict[tuple[int, int, str], list[TrainingAssignment]] = defaultdict(list)
    for a in assignments:
        if a.assigned_at <= NOW:
            mine[(a.person_id, a.department_id, a.segment)].append(a)
    counts: dict[tuple[int, str], list[int]] = defaultdict(lambda: [0, 0, 0])
    for p in people:
        if p.department_id not in ids or p.removed_at is not None:
            continue
        if p.segment not in TRAINEE_SEGMENTS:
            continue
        figures = counts[(p.department_id, p.segment)]
        figures[0] += 1
        assigned = mine.get((p.id or 0, p.department_id, p.segment), [])
        if assigned:
            figures[1] += 1
            if all(a.completed_at is not None and a.completed_at <= NOW for a in assigned):
                figures[2] += 1
    out: dict[int, dict[str, TrainingFact]] = defaultdict(dict)
    for (dept, segment), (people_n, assigned_n, completed_n) in counts.items():
        out[dept][segment] = TrainingFact(assigned_n, completed_n, people=people_n)
    return dict(out)


def test_the_training_figures_equal_a_naive_count(engine: Engine) -> None:
    h.apply(engine)
    with Session(engine) as session:
        departments = list(session.exec(select(Department).order_by(Department.name)))
    assert len(departments) >= 3
    read, other = [d.id or 0 for d in departments[:2]], departments[2].id or 0
    rng = random.Random(13)
    with Session(engine) as session, session.begin():
        program_id = departments[0].program_id
        people = [
            Person(
                program_id=program_id,
                key=f"person-{n}",
                name=f"Person {n}",
                email=f"person-{n}@example.com",
                department_id=rng.choice([*read, other]),
                segment=rng.choice(SEGMENTS),
                removed_at=NOW - timedelta(days=1) if n % 11 == 0 else None,
            )
            for n in range(160)
        ]
        session.add_all(people)
        session.flush()
        assignments = []
        for p in people:
            for module in range(rng.randrange(0, 4)):
                # most where the person is now; some from before a move or a new segment
                moved = rng.random() < 0.2
                assignments.append(
                    TrainingAssignment(
                        department_id=rng.choice([*read, other]) if moved else p.department_id,
                        person_id=p.id or 0,
                        segment=rng.choice(SEGMENTS) if moved else p.segment,
                        module_id=f"module-{module}",
                        assigned_at=rng.choice(MOMENTS),
                        due_at=NOW + timedelta(days=7),
                        completed_at=rng.choice([None, *MOMENTS]),
                    )
                )
        # Sure cases: trained only where the person was before a move, or in the segment
        # they had before; neither counts.
        moved, resegmented = people[1], people[2]
        moved.department_id, moved.segment, moved.removed_at = read[0], "power", None
        resegmented.department_id, resegmented.segment = read[0], "casual"
        resegmented.removed_at = None
        assignments += [
            TrainingAssignment(
                department_id=department,
                person_id=person.id or 0,
                segment="power",
                module_id="module-before",
                assigned_at=MOMENTS[0],
                due_at=NOW,
                completed_at=MOMENTS[0],
            )
            for person, department in ((moved, read[1]), (resegmented, read[0]))
        ]
        session.add_all([*assignments, moved, resegmented])
        session.flush()
        # the plan's own people count too
        expected = _naive(
            list(session.exec(select(Person))),
            list(session.exec(select(TrainingAssignment))),
            set(read),
        )

    with Session(engine) as session:
        found = _training(session, read, NOW)

    assert {d: dict(v) for d, v in found.items()} == expected
    # the case mix the naive count covers: none of these is empty
    facts = [f for per in expected.values() for f in per.values()]
    assert any(f.completed for f in facts)
    assert any(f.assigned > f.completed for f in facts)
    assert any(f.people > f.assigned for f in facts)

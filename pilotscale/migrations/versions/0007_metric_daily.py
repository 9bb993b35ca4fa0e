"""Daily roll-up of metric observations, kept by triggers.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-04

At 2,000 departments the gates' windows cover 1.4 million observations, and every
`status`, `explain` and report added them up again. `metric_daily` holds per department,
metric and UTC day the count, the sum of the values within +-1e15 (the aggregates' bound,
`plan.schema.VALUE_LIMIT`: a sum of them cannot overflow), the minimum and the maximum;
readers add up whole days from it and read only the partial days at a window's edges.

Triggers keep it, not the writers: every path that writes an observation (imports, pulls,
the demo, a person's own SQL) keeps it in the same transaction, and a path added later
cannot forget to. An insert adds its rows to their day; an update or delete recounts the
days it touched from the observations. On PostgreSQL the triggers run once per statement
over its transition tables (an import of 50,000 rows is one grouped upsert, not 50,000);
SQLite has only row triggers. The upgrade fills the table from the observations stored.

`program.owners_plan_json`: the applied plan less the people who own no gate, written by
`apply` (`store.ownerplan`), so that `status` and the report no longer take the 21 MB
plan apart on every read; NULL until a store's next apply, read the old way meanwhile.

The index on `observed_at` serves the partial days at the windows' edges: by time alone,
for all departments at once (PostgreSQL otherwise scans every observation per edge).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# plan.schema.VALUE_LIMIT when this revision was written; a migration keeps its own copy.
LIMIT = "1e15"

# SQLite stores UTCDateTime as naive UTC text 'YYYY-MM-DD HH:MM:SS[.ffffff]', so a row's
# day is its first ten characters, and SQLAlchemy's Date is that same text.
_SQLITE_DAY = "substr({row}.observed_at, 1, 10)"
_SQLITE_BOUNDED = "CASE WHEN {row}.value BETWEEN -{limit} AND {limit} THEN {row}.value END"


def _sqlite_recount(row: str) -> str:
    """Statements that recount `row`'s (department, metric, day) from the observations."""
    day = _SQLITE_DAY.format(row=row)
    return f"""
        DELETE FROM metric_daily
        WHERE department_id = {row}.department_id AND metric = {row}.metric AND day = {day};
        INSERT INTO metric_daily (department_id, metric, day, count, total, minimum, maximum)
        SELECT o.department_id, o.metric, {day}, count(*),
               coalesce(sum({_SQLITE_BOUNDED.format(row="o", limit=LIMIT)}), 0.0),
               min(o.value), max(o.value)
        FROM metric_observation AS o
        WHERE o.department_id = {row}.department_id AND o.metric = {row}.metric
          AND o.observed_at >= {day} AND o.observed_at < date({day}, '+1 day')
        GROUP BY o.department_id, o.metric;"""


# The row triggers' body adds with UPDATE-then-INSERT rather than an upsert: an outer
# statement's conflict clause (INSERT OR IGNORE) would override the trigger's own.
_SQLITE_TRIGGERS = [
    f"""
    CREATE TRIGGER metric_daily_after_insert AFTER INSERT ON metric_observation
    BEGIN
        UPDATE metric_daily SET
            count = count + 1,
            total = total + coalesce({_SQLITE_BOUNDED.format(row="NEW", limit=LIMIT)}, 0.0),
            minimum = min(minimum, NEW.value),
            maximum = max(maximum, NEW.value)
        WHERE department_id = NEW.department_id AND metric = NEW.metric
          AND day = {_SQLITE_DAY.format(row="NEW")};
        INSERT INTO metric_daily (department_id, metric, day, count, total, minimum, maximum)
        SELECT NEW.department_id, NEW.metric, {_SQLITE_DAY.format(row="NEW")}, 1,
               coalesce({_SQLITE_BOUNDED.format(row="NEW", limit=LIMIT)}, 0.0),
               NEW.value, NEW.value
        WHERE NOT EXISTS (
            SELECT 1 FROM metric_daily
            WHERE department_id = NEW.department_id AND metric = NEW.metric
              AND day = {_SQLITE_DAY.format(row="NEW")}
        );
    END""",
    f"""
    CREATE TRIGGER metric_daily_after_delete AFTER DELETE ON metric_observation
    BEGIN {_sqlite_recount("OLD")}
    END""",
    f"""
    CREATE TRIGGER metric_daily_after_update AFTER UPDATE ON metric_observation
    BEGIN {_sqlite_recount("OLD")} {_sqlite_recount("NEW")}
    END""",
]

_PG_DAY = "({row}.observed_at AT TIME ZONE 'UTC')::date"
_PG_FIGURES = f"""count(*), coalesce(sum(o.value) FILTER (WHERE o.value BETWEEN -{LIMIT} AND
    {LIMIT}), 0.0), min(o.value), max(o.value)"""


def _pg_recount(name: str, touched: str) -> str:
    """A trigger function that recounts the days `touched` (a SELECT of department_id,
    metric, day over the statement's transition tables) from the observations."""
    return f"""
    CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM metric_daily AS d USING ({touched}) AS t
        WHERE d.department_id = t.department_id AND d.metric = t.metric AND d.day = t.day;
        INSERT INTO metric_daily (department_id, metric, day, count, total, minimum, maximum)
        SELECT t.department_id, t.metric, t.day, {_PG_FIGURES}
        FROM ({touched}) AS t
        JOIN metric_observation AS o
          ON o.department_id = t.department_id AND o.metric = t.metric
         AND o.observed_at >= t.day::timestamp AT TIME ZONE 'UTC'
         AND o.observed_at < (t.day + 1)::timestamp AT TIME ZONE 'UTC'
        GROUP BY t.department_id, t.metric, t.day
        ORDER BY 1, 2, 3;
        RETURN NULL;
    END $$"""


_PG_FUNCTIONS = [
    f"""
    CREATE FUNCTION metric_daily_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO metric_daily AS d
            (department_id, metric, day, count, total, minimum, maximum)
        SELECT o.department_id, o.metric, {_PG_DAY.format(row="o")}, {_PG_FIGURES}
        FROM new_rows AS o
        GROUP BY 1, 2, 3
        ORDER BY 1, 2, 3
        ON CONFLICT (department_id, metric, day) DO UPDATE SET
            count = d.count + excluded.count,
            total = d.total + excluded.total,
            minimum = least(d.minimum, excluded.minimum),
            maximum = greatest(d.maximum, excluded.maximum);
        RETURN NULL;
    END $$""",
    _pg_recount(
        "metric_daily_recount_update",
        f"SELECT department_id, metric, {_PG_DAY.format(row='old_rows')} AS day FROM old_rows "
        f"UNION SELECT department_id, metric, {_PG_DAY.format(row='new_rows')} FROM new_rows",
    ),
    _pg_recount(
        "metric_daily_recount_delete",
        f"SELECT DISTINCT department_id, metric, {_PG_DAY.format(row='old_rows')} AS day "
        "FROM old_rows",
    ),
]

_PG_TRIGGERS = [
    "CREATE TRIGGER metric_daily_after_insert AFTER INSERT ON metric_observation "
    "REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION metric_daily_add()",
    "CREATE TRIGGER metric_daily_after_update AFTER UPDATE ON metric_observation "
    "REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION metric_daily_recount_update()",
    "CREATE TRIGGER metric_daily_after_delete AFTER DELETE ON metric_observation "
    "REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION metric_daily_recount_delete()",
]


def upgrade() -> None:
    op.create_table(
        "metric_daily",
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("metric", sa.String(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("total", sa.Float(), nullable=False),
        sa.Column("minimum", sa.Float(), nullable=False),
        sa.Column("maximum", sa.Float(), nullable=False),
        sa.PrimaryKeyConstraint("department_id", "metric", "day", name="pk_metric_daily"),
    )
    op.create_index("ix_metric_observation_observed_at", "metric_observation", ["observed_at"])
    with op.batch_alter_table("program") as batch:
        batch.add_column(sa.Column("owners_plan_json", sa.Text(), nullable=True))
    postgres = op.get_bind().dialect.name == "postgresql"
    day = (_PG_DAY if postgres else _SQLITE_DAY).format(row="o")
    figures = (
        _PG_FIGURES
        if postgres
        else f"count(*), coalesce(sum({_SQLITE_BOUNDED.format(row='o', limit=LIMIT)}), 0.0), "
        "min(o.value), max(o.value)"
    )
    op.execute(
        "INSERT INTO metric_daily (department_id, metric, day, count, total, minimum, maximum) "
        f"SELECT o.department_id, o.metric, {day}, {figures} FROM metric_observation AS o "
        "GROUP BY 1, 2, 3"
    )
    for statement in (_PG_FUNCTIONS + _PG_TRIGGERS) if postgres else _SQLITE_TRIGGERS:
        op.execute(statement)


def downgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for name in ("insert", "update", "delete"):
        on = " ON metric_observation" if postgres else ""
        op.execute(f"DROP TRIGGER IF EXISTS metric_daily_after_{name}{on}")
    if postgres:
        for function in (
            "metric_daily_add",
            "metric_daily_recount_update",
            "metric_daily_recount_delete",
        ):
            op.execute(f"DROP FUNCTION IF EXISTS {function}()")
    op.drop_table("metric_daily")
    with op.batch_alter_table("program") as batch:
        batch.drop_column("owners_plan_json")
    op.drop_index("ix_metric_observation_observed_at", table_name="metric_observation")

"""The rollout plan: what a program lead writes in YAML, as pydantic v2 models.

Field-level rules live here; rules that relate one part of the plan to another
(unknown references, waves that can never start, ...) live in `crosscheck.py` so
that every problem in a plan is reported at once, each with its YAML line.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import date, time, timedelta
from enum import StrEnum
from functools import cached_property, lru_cache
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainSerializer,
    TypeAdapter,
    WithJsonSchema,
    model_validator,
)
from pydantic.dataclasses import dataclass as pydantic_dataclass

from pilotscale.plan.cron import check_cron

# --------------------------------------------------------------------------- scalar types

SLUG_PATTERN = r"^[a-z0-9][a-z0-9_.-]{0,62}$"
Slug = Annotated[
    str,
    Field(
        pattern=SLUG_PATTERN,
        description="Lower-case name: letters, digits, '-', '_', '.'; at most 63 characters.",
    ),
]

_DURATION_RE = re.compile(r"^\s*(\d+)\s*(m|h|d|w)\s*$")
_DURATION_UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(value: Any) -> timedelta:
    if isinstance(value, timedelta):
        return value
    if isinstance(value, str):
        return _duration_of(value)
    raise ValueError(_DURATION_ERROR)


_DURATION_ERROR = "a duration is a whole number and a unit, e.g. '30m', '12h', '14d' or '2w'"


# A plan of 2,000 departments holds 6,000 durations of a few distinct values ('1w', '2w'),
# parsed again by every read command: 0.02 s of `status`'s 0.08 s plan parse uncached.
@lru_cache(maxsize=256)
def _duration_of(text: str) -> timedelta:
    match = _DURATION_RE.match(text)
    if match is None:
        raise ValueError(_DURATION_ERROR)
    return timedelta(**{_DURATION_UNITS[match.group(2)]: int(match.group(1))})


def format_duration(value: timedelta) -> str:
    seconds = int(value.total_seconds())
    for unit, size in (("w", 604800), ("d", 86400), ("h", 3600), ("m", 60)):
        if seconds and seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds // 60}m"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^\s*\d+\s*(m|h|d|w)\s*$",
            "description": "A duration such as '30m', '12h', '14d' or '2w'.",
        }
    ),
]

SECRET_REF_PATTERN = r"^(env:[A-Za-z_][A-Za-z0-9_]*|secret:[a-z0-9][a-z0-9-]*)$"  # noqa: S105


def _check_secret_ref(value: str) -> str:
    # Never echo the value: if it is a real URL it is a secret.
    if "://" in value or ("@" in value and ":" in value):
        raise ValueError(
            "a channel or connection URL is a secret and must not be written in the plan: "
            "put it in an environment variable and write 'env:NAME', or in a Prefect Secret "
            "block and write 'secret:BLOCK-NAME'"
        )
    if not re.match(SECRET_REF_PATTERN, value):
        raise ValueError(
            "must be a reference: 'env:NAME' (an environment variable) or "
            "'secret:BLOCK-NAME' (a Prefect Secret block)"
        )
    return value


SecretRef = Annotated[
    str,
    AfterValidator(_check_secret_ref),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": SECRET_REF_PATTERN,
            "description": "'env:NAME' or 'secret:BLOCK-NAME'; never the URL itself.",
        }
    ),
]


def check_timezone(value: str) -> str:
    try:
        ZoneInfo(value)
    # OSError too: a name longer than the file system allows must be a problem, not a crash.
    except (ZoneInfoNotFoundError, ValueError, OSError) as exc:
        raise ValueError("unknown time zone; use an IANA name such as 'Europe/Madrid'") from exc
    return value


TimeZoneName = Annotated[str, AfterValidator(check_timezone)]

_QUIET_RE = re.compile(r"^\s*(\d{1,2}):(\d{2})\s*-\s*(\d{1,2}):(\d{2})\s*$")
# A person's digest day, Monday first (the index is datetime.weekday()).
WEEKDAYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
QUIET_HOURS_HELP = (
    "quiet hours are a local time window such as '20:00-08:00' (it may cross midnight)"
)


def parse_quiet_hours(value: str) -> tuple[time, time]:
    """'20:00-08:00' as (start, end), local wall-clock times; a window whose start is
    after its end crosses midnight. An empty window (start == end) is refused: it reads
    as "never quiet" to some and "always quiet" to others."""
    match = _QUIET_RE.match(value)
    if not match:
        raise ValueError(f"'{value}' is not a time window: {QUIET_HOURS_HELP}")
    h1, m1, h2, m2 = (int(g) for g in match.groups())
    if h1 > 23 or h2 > 23 or m1 > 59 or m2 > 59:
        raise ValueError(f"'{value}' is not a time window: hours 00-23, minutes 00-59")
    start, end = time(h1, m1), time(h2, m2)
    if start == end:
        raise ValueError(f"'{value}' starts and ends at the same time: {QUIET_HOURS_HELP}")
    return start, end


def normal_quiet_hours(value: str) -> str:
    """The window as 'HH:MM-HH:MM' (what the plan's JSON and the store keep)."""
    start, end = parse_quiet_hours(value)
    return f"{start:%H:%M}-{end:%H:%M}"


def parse_weekday(value: str) -> str:
    """'Mon', 'monday' or 'mon' as 'mon'."""
    name = value.strip().lower()
    for day in WEEKDAYS:
        if name == day or (name.startswith(day) and _WEEKDAY_NAMES.get(day) == name):
            return day
    raise ValueError(f"'{value}' is not a day: use {', '.join(WEEKDAYS)}")


_WEEKDAY_NAMES = dict(
    zip(
        WEEKDAYS,
        ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
        strict=True,
    )
)

QuietHours = Annotated[
    str,
    AfterValidator(normal_quiet_hours),
    Field(
        json_schema_extra={"pattern": r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$"},
        description=(
            "Local hours in which messages that are not urgent wait, e.g. '20:00-08:00' "
            "(crossing midnight is fine): they are sent when the window ends."
        ),
    ),
]
Weekday = Annotated[
    str,
    AfterValidator(parse_weekday),
    Field(
        json_schema_extra={"enum": list(WEEKDAYS)},
        description="A day of the week: mon, tue, wed, thu, fri, sat or sun.",
    ),
]

Cron = Annotated[
    str,
    AfterValidator(check_cron),
    Field(
        # The JSON Schema keeps a shape check for editors; the loader checks each field.
        json_schema_extra={"pattern": r"^\S+( \S+){4}$"},
        description="Five-field cron expression, e.g. '0 9 * * 1-5' (weekdays at 09:00).",
    ),
]

Fraction = Annotated[float, Field(ge=0.0, le=1.0)]


class _Model(BaseModel):
    # Unknown keys are errors: a typo such as 'threshhold' must not be silently ignored.
    # Validators are built on first use, not at import: a read command validates only the
    # Plan (one validator for the whole tree), and building each of the 33 classes' own
    # validators at import cost a read command 15 ms of its 0.5 s (bench/cli_latency.py).
    model_config = ConfigDict(extra="forbid", frozen=True, defer_build=True)


# --------------------------------------------------------------------------- program


class Budget(_Model):
    currency: str = Field(default="USD", min_length=3, max_length=3)
    pilot_budget: float = Field(ge=0, description="What the pilot cost, per year.")
    approved_scale_budget: float = Field(
        ge=0, description="Budget approved for full scale, per year."
    )
    cost_per_user_month: float = Field(ge=0, description="Licence price per user per month.")
    usage_cost_month: float = Field(
        default=0, ge=0, description="Usage-based costs per month at full scale."
    )
    support_cost_month: float = Field(default=0, ge=0, description="Support effort per month.")
    training_cost_per_user: float = Field(
        default=0, ge=0, description="One-off training cost per user."
    )


class Kpi(_Model):
    name: Slug
    title: str
    unit: str = ""
    direction: Literal["up", "down"] = "up"
    target: float | None = None


class Resource(_Model):
    title: str
    url: str | None = None


class Schedules(_Model):
    readiness_check: Cron = "0 9 * * 1-5"
    weekly_digest: Cron = "0 8 * * 1"


class Program(_Model):
    name: Slug
    title: str
    description: str = ""
    sponsor: str = Field(description="Person id of the executive sponsor.")
    lead: str = Field(description="Person id of the program lead.")
    timezone: TimeZoneName = "UTC"
    budget: Budget
    kpis: list[Kpi] = Field(default_factory=list)
    schedules: Schedules = Field(default_factory=Schedules)
    failure_limit: int = Field(
        default=3,
        ge=1,
        description=(
            "Consecutive failing readiness checks before a department is blocked; in the last "
            "phase, consecutive checks one monitoring gate fails before it has regressed."
        ),
    )
    pending_limit: int = Field(
        default=3,
        ge=1,
        description=(
            "Consecutive readiness checks a gate may stay pending before it is 'stuck': the "
            "department's sponsor and the program lead are told, once per visit to the phase."
        ),
    )
    remind_every: Duration = Field(
        default=timedelta(days=7),
        description=(
            "A gate that stays held reminds its owner when its result changes and then once "
            "every remind_every of the department's time in the phase, not at every check "
            "(daily checks do not send daily reminders). E.g. 1w, 3d."
        ),
    )
    talking_points: list[str] = Field(
        default_factory=list, description="What champions say about the program (welcome kit)."
    )
    resources: list[Resource] = Field(
        default_factory=list, description="Links every champion gets (welcome kit)."
    )
    email_channel: str | None = Field(default=None, description="Channel name used for email.")
    chat_channel: str | None = Field(default=None, description="Default chat channel name.")
    quiet_hours: QuietHours | None = Field(
        default=None,
        description=(
            "Everyone's quiet hours unless their own say otherwise, in each person's time "
            "zone, e.g. '20:00-08:00'. Messages that are not urgent wait until the window "
            "ends (pilotscale.core.quiet_hours.URGENT never waits). Default: none."
        ),
    )
    digest_day: Weekday | None = Field(
        default=None,
        description=(
            "The day everyone's weekly digest reaches them unless their own digest_day says "
            "otherwise (at the end of their quiet hours, else 08:00, their time). Default: "
            "the day schedules.weekly_digest queues it."
        ),
    )


# --------------------------------------------------------------------------- people


class Segment(StrEnum):
    power = "power"
    casual = "casual"
    # Not a trainee: sponsors, leads and owners who use the assistant no more than anyone
    # must not count in a training denominator (`pilotscale.core.roster`).
    none = "none"


class Role(StrEnum):
    champion = "champion"
    lead = "lead"
    sponsor = "sponsor"
    support_owner = "support_owner"
    approver = "approver"
    executive = "executive"


# A slotted dataclass, not a model: a plan of 100,000 people held 185 MB of pydantic
# models and holds 83 MB of these (`python -m bench.people_memory`), in every process
# that reads the plan. Same validation, same schema, same errors.
@pydantic_dataclass(frozen=True, slots=True, config=ConfigDict(extra="forbid", defer_build=True))
class Person:
    id: Slug
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    chat: str | None = Field(default=None, description="Chat address, e.g. '@maria'.")
    department: str | None = None
    # Absent: the roster's segment, else `none` for a sponsor, lead, owner or executive and
    # `casual` for anyone else (`pilotscale.core.roster.effective_segment`).
    segment: Segment | None = None
    roles: tuple[Role, ...] = ()
    # Absent: the roster's, else email (`effective_notify`).
    notify: Literal["email", "chat", "both", "digest"] | None = None
    # Absent: the roster's, else the program's time zone and quiet hours; no digest day
    # means the day the weekly_digest schedule queues it (`core.quiet_hours`).
    timezone: TimeZoneName | None = Field(default=None, description="IANA time zone name.")
    quiet_hours: QuietHours | None = None
    digest_day: Weekday | None = Field(
        default=None, description="The day the weekly digest reaches this person."
    )

    @property
    def effective_notify(self) -> str:
        """How messages reach this person: as the plan (or, through `store.roster_plan`,
        the roster) says, else by email."""
        return self.notify or "email"

    def as_json(self, *, exclude_defaults: bool = False) -> dict[str, Any]:
        """What the plan's JSON holds for this person."""
        return PERSON_ADAPTER.dump_python(self, mode="json", exclude_defaults=exclude_defaults)


PERSON_ADAPTER: TypeAdapter[Person] = TypeAdapter(Person)


# --------------------------------------------------------------------------- phases and gates


class EntryAction(StrEnum):
    onboard_champions = "onboard_champions"
    deliver_training = "deliver_training"
    announce = "announce"
    share_success_story = "share_success_story"


class OnRegression(_Model):
    rollback_to: Slug = Field(
        description=(
            "The phase the department goes back to, automatically, when one of its monitoring "
            "gates fails the program's failure_limit checks in a row."
        )
    )


class Phase(_Model):
    name: Slug
    title: str = ""
    entry_actions: list[EntryAction] = Field(default_factory=list)
    exit_gates: list[str] = Field(default_factory=list, description="Gate names, all must pass.")
    min_soak: Duration | None = Field(default=None, description="Minimum time in the phase.")
    training_segments: list[Segment] = Field(
        default_factory=lambda: [Segment.power, Segment.casual],
        description=(
            "Segments that deliver_training reaches in this phase, e.g. [power] while piloting "
            "and [casual] when scaling."
        ),
    )
    on_regression: OnRegression | None = Field(
        default=None,
        description=(
            "Last phase only: what a sustained failure of its monitoring gates does besides "
            "alerting the owner, the sponsor and the lead. Without it the department is blocked."
        ),
    )


class _GateBase(_Model):
    name: Slug
    title: str = Field(description="What the gate checks, in one line a person understands.")
    owner: str = Field(
        description=(
            "Who is asked to act when the gate does not pass: a person id, or a department role: "
            "'sponsor', 'lead', 'support.technical', 'support.adoption', 'support.content', "
            "'support.governance'."
        )
    )
    source: str = Field(
        default="",
        description=(
            "Where the check comes from, in words a reader knows, e.g. 'scaling checklist: "
            "champions identified in each department'."
        ),
    )
    how_to_fix: str = Field(default="", description="What the owner should do; shown when held.")
    pending_limit: int | None = Field(
        default=None,
        ge=1,
        description=(
            "This gate's own limit of pending checks before it is stuck (default: the "
            "program's pending_limit)."
        ),
    )
    advisory: bool = Field(
        default=False,
        description=(
            "Evaluated, shown and notified like any gate, but never holds the department "
            "(a dry run of a new gate before it counts)."
        ),
    )


class MetricGate(_GateBase):
    kind: Literal["metric"]
    metric: Slug
    aggregate: Literal["avg", "sum", "min", "max", "last", "count"] = "avg"
    window: Duration = timedelta(days=7)
    op: Literal[">=", ">", "<=", "<"] = ">="
    threshold: float
    min_samples: int = Field(default=1, ge=1)


def _direction(value: Any) -> Any:
    # Plans say "not declining" as people do; the stored name has no space.
    return value.strip().replace(" ", "_").replace("-", "_") if isinstance(value, str) else value


class TrendGate(_GateBase):
    """A metric's direction over a window, by the least-squares slope of its samples."""

    kind: Literal["trend"]
    metric: Slug
    direction: Annotated[
        Literal["growing", "stable", "not_declining"], BeforeValidator(_direction)
    ] = Field(description="'growing', 'stable' or 'not declining'.")
    window: Duration = Field(
        default=timedelta(weeks=6), description="How far back the samples are taken."
    )
    per: Duration = Field(
        default=timedelta(weeks=1), description="The slope's time unit: change per this long."
    )
    min_samples: int = Field(
        default=4, ge=3, description="Fewer samples in the window: pending, never a verdict."
    )
    tolerance: float = Field(
        default=0,
        ge=0,
        description=(
            "Change per `per`, in the metric's points (a fraction's hundredths, a "
            "percentage's points) or units, that still counts as flat: 'growing' needs more, "
            "'stable' at most this either way, 'not declining' no fall beyond it."
        ),
    )

    @model_validator(mode="after")
    def _flat_band(self) -> TrendGate:
        if self.direction == "stable" and self.tolerance <= 0:
            raise ValueError(
                "a 'stable' trend needs a tolerance above 0: the change per "
                f"{format_duration(self.per)} that still counts as stable, e.g. tolerance: 1"
            )
        return self


class AttestationGate(_GateBase):
    kind: Literal["attestation"]
    checklist: str = Field(description="The item the owner confirms.")
    evidence_required: bool = True
    expires_after: Duration | None = None


class ApprovalGate(_GateBase):
    kind: Literal["approval"]
    approvers: list[str] = Field(description="Person ids allowed to approve.")
    required: int = Field(default=1, ge=1)
    escalate_after: Duration = timedelta(days=3)


class SoakGate(_GateBase):
    kind: Literal["soak"]
    duration: Duration


class TrainingGate(_GateBase):
    kind: Literal["training"]
    segment: Literal["power", "casual", "all"] = "all"
    min_completion: Fraction


class ChampionCoverageGate(_GateBase):
    kind: Literal["champion_coverage"]
    min_champions: int = Field(default=1, ge=1)
    people_per_champion: int | None = Field(
        default=None, ge=1, description="At least one champion per this many people."
    )
    require: Literal["identified", "onboarded", "acknowledged"] = "acknowledged"


SupportArea = Literal["technical", "adoption", "content", "governance"]


def _all_support_areas() -> list[SupportArea]:
    return ["technical", "adoption", "content", "governance"]


class SupportCoverageGate(_GateBase):
    kind: Literal["support_coverage"]
    areas: list[SupportArea] = Field(default_factory=_all_support_areas)


Gate = Annotated[
    MetricGate
    | AttestationGate
    | ApprovalGate
    | SoakGate
    | TrainingGate
    | ChampionCoverageGate
    | SupportCoverageGate
    | TrendGate,
    Field(discriminator="kind"),
]

# --------------------------------------------------------------------------- departments


class KpiTarget(_Model):
    kpi: str = Field(description="A program KPI name or a metric name.")
    target: float
    baseline: float | None = None


class UseCase(_Model):
    name: Slug
    title: str
    description: str = ""
    kpis: list[KpiTarget] = Field(default_factory=list)


class TrainingModule(_Model):
    id: Slug
    title: str
    url: str | None = None
    due_after: Duration = timedelta(days=14)
    minutes: int | None = Field(default=None, ge=1)


class TrainingPlan(_Model):
    power: list[TrainingModule] = Field(
        default_factory=list, description="Full course for power users."
    )
    casual: list[TrainingModule] = Field(default_factory=list, description="Quick-start guides.")
    self_service: list[TrainingModule] = Field(
        default_factory=list, description="Library everyone gets; not tracked for completion."
    )


class SupportOwners(_Model):
    technical: str | None = None
    adoption: str | None = None
    content: str | None = None
    governance: str | None = None


def _not_a_number(value: Any) -> Any:
    # pydantic would read 1735603200 as a Unix time and 20261231 as an error about time
    # of day; a person writing a number here meant a date, so say how to write one.
    if isinstance(value, int | float):
        raise ValueError("a number is not a date: write it as YYYY-MM-DD, e.g. 2026-03-31")
    return value


CalendarDate = Annotated[date, BeforeValidator(_not_a_number)]


class Blackout(_Model):
    start: CalendarDate
    end: CalendarDate
    reason: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Blackout:
        if self.end < self.start:
            raise ValueError("end is before start")
        return self


class GateOverride(_Model):
    """One department's own numbers for a gate of the plan; unset fields keep the gate's."""

    threshold: float | None = Field(
        default=None,
        description=(
            "The gate's threshold for this department: a metric gate's threshold, a "
            "training gate's min_completion (0..1), a champion gate's min_champions."
        ),
    )
    window: Duration | None = Field(default=None, description="A metric gate's window.")
    min_samples: int | None = Field(default=None, ge=1, description="A metric gate's min_samples.")


class Department(_Model):
    name: Slug
    title: str
    headcount: int = Field(ge=1)
    wave: int = Field(ge=0)
    # An essential (plan/essentials.py), not a schema requirement: a plan without one is
    # refused by `validate`/`apply` unless --allow-incomplete, and then the program lead
    # hears what the sponsor would (core.recipients.sponsor_or_lead).
    sponsor: str | None = Field(
        default=None,
        description="Person id of the executive who backs the department; without one, "
        "the program lead is told what the sponsor would be.",
    )
    champions: list[str] = Field(default_factory=list)
    use_cases: list[UseCase] = Field(default_factory=list)
    training: TrainingPlan = Field(default_factory=TrainingPlan)
    support: SupportOwners = Field(default_factory=SupportOwners)
    blackout: list[Blackout] = Field(default_factory=list)
    gate_overrides: dict[str, GateOverride] = Field(
        default_factory=dict,
        description="Gate name -> this department's own threshold, window or min_samples.",
    )
    chat_channel: str | None = None
    initial_phase: str | None = Field(
        default=None,
        description="Phase a department starts in when applied (e.g. the finished pilot).",
    )


# ------------------------------------------------------------------ rollout, metrics, channels


class WaveRule(_Model):
    wave: int = Field(ge=1)
    after_wave: int = Field(ge=0)
    reaches: str = Field(description="Phase every department of after_wave must have reached.")


class Rollout(_Model):
    max_active: int = Field(default=2, ge=1, description="Departments in flight at once.")
    default_reaches: str | None = Field(
        default=None,
        description=(
            "Wave N starts when wave N-1 reached this phase (unless a wave rule says otherwise)."
        ),
    )
    waves: list[WaveRule] = Field(default_factory=list)


class ImportSource(_Model):
    kind: Literal["import"] = "import"


class HttpSource(_Model):
    kind: Literal["http"]
    url: str
    headers_ref: SecretRef | None = None
    value_path: str = "value"
    timeout: Duration = timedelta(minutes=1)
    every: Duration = timedelta(hours=1)


class SqlSource(_Model):
    kind: Literal["sql"]
    connection: SecretRef
    query: str
    timeout: Duration = timedelta(minutes=1)
    every: Duration = timedelta(hours=1)


MetricSource = Annotated[ImportSource | HttpSource | SqlSource, Field(discriminator="kind")]


# No declared bound beyond this: with every stored value within it, a sum over any number
# of rows a store can hold stays far below the largest float (1.8e308) on every database.
VALUE_LIMIT = 1e15
Bound = Annotated[float, Field(ge=-VALUE_LIMIT, le=VALUE_LIMIT)]


class Metric(_Model):
    name: Slug
    title: str = ""
    unit: str = Field(
        default="",
        description=(
            "'fraction' or 'rate' (values 0 to 1), 'percent' or '%' (0 to 100), or any other "
            "word for a count or amount (0 to 1e9 unless min/max say otherwise)."
        ),
    )
    min: Bound | None = Field(
        default=None, description="Lowest value an observation may have (default 0)."
    )
    max: Bound | None = Field(
        default=None,
        description=(
            "Highest value an observation may have (default 1 for a fraction, 100 for a "
            "percentage, 1e9 otherwise; at most 1e15)."
        ),
    )
    source: MetricSource = Field(default_factory=ImportSource)

    @model_validator(mode="after")
    def _ordered(self) -> Metric:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"min {self.min:g} is above max {self.max:g}")
        return self


class Channel(_Model):
    name: Slug
    kind: Literal["email", "chat"]
    url: SecretRef


# Plan's cached lookups, dropped from a copy made with changes.
INDEXES = ("people_by_id", "gates_by_name", "departments_by_name", "people_by_department")


class Plan(_Model):
    version: Literal[1] = 1
    program: Program
    people: list[Person]
    phases: list[Phase] = Field(min_length=2)
    gates: list[Gate] = Field(default_factory=list)
    departments: list[Department] = Field(min_length=1)
    rollout: Rollout = Field(default_factory=Rollout)
    metrics: list[Metric] = Field(default_factory=list)
    channels: list[Channel] = Field(default_factory=list)

    # Lookups used everywhere, once per message or gate: indexed, because a plan of
    # 100,000 people scanned per message makes a readiness check quadratic. The plan is
    # frozen, so an index built once stays right.
    @cached_property
    def people_by_id(self) -> dict[str, Person]:
        return {p.id: p for p in self.people}

    @cached_property
    def gates_by_name(self) -> dict[str, Gate]:
        return {g.name: g for g in self.gates}

    @cached_property
    def departments_by_name(self) -> dict[str, Department]:
        return {d.name: d for d in self.departments}

    @cached_property
    def people_by_department(self) -> dict[str, tuple[Person, ...]]:
        grouped: dict[str, list[Person]] = {}
        for p in self.people:
            if p.department is not None:
                grouped.setdefault(p.department, []).append(p)
        return {name: tuple(members) for name, members in grouped.items()}

    def members(self, department: str) -> tuple[Person, ...]:
        """The people of `department`, in plan order."""
        return self.people_by_department.get(department, ())

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> Plan:
        copied = super().model_copy(update=update, deep=deep)
        for index in INDEXES:
            copied.__dict__.pop(index, None)  # built from the original's lists
        return copied

    def find_person(self, person_id: str) -> Person | None:
        return self.people_by_id.get(person_id)

    def person(self, person_id: str) -> Person:
        """The person with this id; KeyError if the plan has none."""
        return self.people_by_id[person_id]

    def gate(self, name: str) -> Any:
        return self.gates_by_name[name]

    def department(self, name: str) -> Department:
        return self.departments_by_name[name]

    def phase_names(self) -> list[str]:
        return [p.name for p in self.phases]

    def phase(self, name: str) -> Phase:
        return next(p for p in self.phases if p.name == name)

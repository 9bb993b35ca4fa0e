"""Every measurement on one kind of store, each in its own worker process, each write
measurement on a fresh copy of the same pristine store."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import runner
from bench.lower_bound import same_signature
from bench.plan import department_name
from bench.runner import Outcome
from bench.stores import Stores


@dataclass(frozen=True)
class Config:
    departments: int  # the size the side-by-side comparison is made at
    sizes: list[int]  # growth series, ascending; includes `departments`
    naive_departments: int
    dispatch_messages: int
    apprise_messages: int
    timeout: float
    seed: int
    workdir: Path

    @property
    def largest(self) -> int:
        return self.sizes[-1]


@dataclass
class SizeResults:
    departments: int
    generate: Outcome
    lower: Outcome
    decide: Outcome
    apply: Outcome
    flow: Outcome | None = None
    writes: Outcome | None = None  # the write lower bound (at the side-by-side size)


@dataclass
class StoreResults:
    kind: str
    sizes: dict[int, SizeResults] = field(default_factory=dict)
    naive: Outcome | None = None
    naive_names: list[str] = field(default_factory=list)
    dispatch: Outcome | None = None
    # (what was compared, agreed — None when a run did not finish —, detail)
    agreement: list[tuple[str, bool | None, str]] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def base_env(config: Config) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(config.workdir / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PILOTSCALE_DATA_DIR": str(config.workdir / "data"),
        "PILOTSCALE_OUTBOX_DIR": str(config.workdir / "outbox"),
    }


RSS_ONLY_SECONDS = 300.0  # a flow that cannot finish in time runs this long for its RSS


def measure(stores: Stores, config: Config, say: Any) -> StoreResults:
    out = StoreResults(stores.kind)
    env = base_env(config)

    def job(name: str, *, url: str, timeout: float | None = None, **arguments: Any) -> Outcome:
        found = runner.run(
            name,
            workdir=config.workdir,
            timeout=timeout or config.timeout,
            env={**env, "PILOTSCALE_DATABASE_URL": url},
            url=url,
            **arguments,
        )
        shown = f"{found.result.get('seconds', found.wall):.2f} s" if found.result else found.error
        say(f"  {stores.kind} {name}: {shown}")
        return found

    def skipped(name: str, why: str) -> Outcome:
        say(f"  {stores.kind} {name}: skipped, {why}")
        return Outcome(name, None, 0.0, 0.0, False, f"skipped: {why}")

    for n in config.sizes:
        say(f"{stores.kind}: {n} departments")
        generated = job("generate", url=stores.new_pristine(n), departments=n, seed=config.seed)
        if not generated.ok:
            out.failures.append(f"N={n}: the store could not be generated: {generated.error}")
            for m in (m for m in config.sizes if m >= n):
                out.sizes[m] = _not_measured(m, generated, config)
            break
        pristine = stores.pristine_url(n)
        # Best of three: this machine's speed wanders by a factor of two within a minute.
        lower = job("lower-bound", url=pristine, repeats=3)
        decide = job("decide", url=pristine, repeats=3)
        # A run that would certainly pass the time limit is not started: predicted from the
        # growth of the last doubling (it can only be wrong on the generous side).
        growth = _growth(out, "apply", n)
        if growth is not None and growth[0] > config.timeout:
            apply = skipped("decide-apply", _prediction(growth, config))
        else:
            apply = job("decide-apply", url=stores.reset_work(n))
        size = SizeResults(n, generated, lower=lower, decide=decide, apply=apply)
        out.sizes[n] = size
        _agree(out, f"N={n}: lower bound = pilotscale", size.lower, size.decide, "signature")
        _agree(out, f"N={n}: decide+apply = decide only", size.apply, size.decide, "signature")
        if n == config.departments:
            size.writes = job("write-lower-bound", url=stores.reset_work(n))
            _agree(out, f"N={n}: write lower bound = pilotscale", size.writes, size.decide,
                   "signature")  # fmt: skip
            _agree_rows(out, f"N={n}: write lower bound = decide+apply", size.writes, size.apply)
        if n in (config.departments, config.largest):
            flow_growth = _flow_growth(out, n)
            limit = None
            if flow_growth is not None and flow_growth[0] > config.timeout:
                # Still run it, for its peak RSS, but only for a while.
                say(f"  {stores.kind} flow: {_prediction(flow_growth, config)}; RSS only")
                limit = min(RSS_ONLY_SECONDS, config.timeout)
            size.flow = job("flow", url=stores.reset_work(n), timeout=limit)
            _agree_actions(out, f"N={n}: readiness-check flow = pilotscale", size.flow, size.decide)
        if n == config.departments:
            step = max(n // config.naive_departments, 1)
            out.naive_names = [department_name(i) for i in range(1, n + 1, step)][
                : config.naive_departments
            ]
            out.naive = job("naive", url=pristine, departments=out.naive_names)
            _agree_actions(out, f"N={n}: naive = pilotscale", out.naive, size.decide)
            out.dispatch = job(
                "dispatch",
                url=stores.reset_work(n),
                count=config.dispatch_messages,
                naive_count=config.apprise_messages,
                folder=str(config.workdir),
            )
    return out


def _not_measured(n: int, generated: Outcome, config: Config) -> SizeResults:
    def missing(job: str) -> Outcome:
        return Outcome(job, None, 0.0, 0.0, False, "skipped: no store of this size")

    size = SizeResults(
        n, generated, missing("lower-bound"), missing("decide"), missing("decide-apply")
    )
    if n in (config.departments, config.largest):
        size.flow = missing("flow")
    return size


def _seconds(outcome: Outcome | None) -> float | None:
    if outcome is None or outcome.result is None:
        return None
    return float(outcome.result["seconds"])


def _growth(out: StoreResults, key: str, n: int) -> tuple[float, float] | None:
    """(predicted seconds at `n`, growth per doubling) from the sizes n/4 and n/2."""
    half, quarter = out.sizes.get(n // 2), out.sizes.get(n // 4)
    if half is None or quarter is None:
        return None
    last, before = _seconds(getattr(half, key)), _seconds(getattr(quarter, key))
    if last is None or not before:
        return None
    ratio = last / before
    return last * ratio, ratio


def _flow_growth(out: StoreResults, n: int) -> tuple[float, float] | None:
    """The flow at `n` predicted from the flow at the largest smaller size it ran at,
    growing as decide + apply did (measured at `n`, or itself predicted)."""
    measured = [m for m, s in out.sizes.items() if m < n and _seconds(s.flow) is not None]
    if not measured:
        return None
    m = max(measured)
    flow_m, apply_m = _seconds(out.sizes[m].flow), _seconds(out.sizes[m].apply)
    apply_n = _seconds(out.sizes[n].apply)
    if apply_n is None:
        growth = _growth(out, "apply", n)
        apply_n = growth[0] if growth else None
    if flow_m is None or not apply_m or apply_n is None:
        return None
    factor = apply_n / apply_m
    return flow_m * factor, factor ** (1 / max(math.log2(n / m), 1.0))


def _prediction(growth: tuple[float, float], config: Config) -> str:
    predicted, ratio = growth
    return (
        f"predicted ≈ {predicted:.0f} s (×{ratio:.1f} per doubling) > the "
        f"{config.timeout:.0f} s limit"
    )


def _agree(out: StoreResults, label: str, a: Outcome, b: Outcome, key: str) -> None:
    if a.result is None or b.result is None:
        out.agreement.append((label, None, "a run did not finish"))
        return
    left, right = a.result[key], b.result[key]
    differ = sorted(
        k for k in left.keys() | right.keys() if not same_signature(left.get(k), right.get(k))
    )
    detail = f"{len(left)} departments" if not differ else f"differ on {', '.join(differ[:5])}"
    out.agreement.append((label, not differ, detail))


def _agree_rows(out: StoreResults, label: str, bound: Outcome, applied: Outcome) -> None:
    """The same number of messages queued (the tests compare the rows themselves)."""
    if bound.result is None or applied.result is None:
        out.agreement.append((label, None, "a run did not finish"))
        return
    mine, theirs = bound.result["enqueued"], applied.result["enqueued"]
    detail = f"{mine:,} messages queued" + ("" if mine == theirs else f" against {theirs:,}")
    out.agreement.append((label, mine == theirs, detail))


def _agree_actions(out: StoreResults, label: str, a: Outcome, decided: Outcome) -> None:
    if a.result is None or decided.result is None:
        out.agreement.append((label, None, "a run did not finish"))
        return
    actions = a.result["actions"]
    expected = {name: decided.result["signature"][name][0] for name in actions}
    differ = sorted(name for name in actions if actions[name] != expected[name])
    detail = f"{len(actions)} departments" if not differ else f"differ on {', '.join(differ[:5])}"
    out.agreement.append((label, not differ, detail))

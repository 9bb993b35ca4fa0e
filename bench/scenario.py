"""Every measurement on one kind of store, each in its own worker process, each write
measurement on a fresh copy of the same pristine store."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import runner
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


@dataclass
class StoreResults:
    kind: str
    sizes: dict[int, SizeResults] = field(default_factory=dict)
    naive: Outcome | None = None
    naive_names: list[str] = field(default_factory=list)
    dispatch: Outcome | None = None
    # (what was compared, agreed — None when a run did not finish —, detail)
    agreement: list[tuple[str, bool | None, str]] = field(default_factory=list)


def base_env(config: Config) -> dict[str, str]:
    return {
        "PREFECT_HOME": str(config.workdir / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PILOTSCALE_DATA_DIR": str(config.workdir / "data"),
        "PILOTSCALE_OUTBOX_DIR": str(config.workdir / "outbox"),
    }


def measure(stores: Stores, config: Config, say: Any) -> StoreResults:
    out = StoreResults(stores.kind)
    env = base_env(config)

    stopped: set[str] = set()  # jobs stopped at the time limit: not tried again at a larger N

    def job(name: str, *, url: str, **arguments: Any) -> Outcome:
        if name in stopped and name != "flow":  # the flow at the largest N gives the peak RSS
            say(f"  {stores.kind} {name}: skipped (stopped at the time limit at a smaller N)")
            return Outcome(name, None, 0.0, 0.0, True, "skipped")
        found = runner.run(
            name,
            workdir=config.workdir,
            timeout=config.timeout,
            env={**env, "PILOTSCALE_DATABASE_URL": url},
            url=url,
            **arguments,
        )
        if found.timed_out:
            stopped.add(name)
        shown = f"{found.result.get('seconds', found.wall):.2f} s" if found.result else found.error
        say(f"  {stores.kind} {name}: {shown}")
        return found

    for n in config.sizes:
        say(f"{stores.kind}: {n} departments")
        generated = job("generate", url=stores.new_pristine(n), departments=n, seed=config.seed)
        if not generated.ok:
            raise RuntimeError(f"generating {n} departments failed: {generated.error}")
        pristine = stores.pristine_url(n)
        size = SizeResults(
            n,
            generated,
            lower=job("lower-bound", url=pristine, repeats=2),
            decide=job("decide", url=pristine, repeats=2),
            apply=job("decide-apply", url=stores.reset_work(n)),
        )
        _agree(out, f"N={n}: lower bound = pilotscale", size.lower, size.decide, "signature")
        _agree(out, f"N={n}: decide+apply = decide only", size.apply, size.decide, "signature")
        if n in (config.departments, config.largest):
            size.flow = job("flow", url=stores.reset_work(n))
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
        out.sizes[n] = size
    return out


def _agree(out: StoreResults, label: str, a: Outcome, b: Outcome, key: str) -> None:
    if a.result is None or b.result is None:
        out.agreement.append((label, None, "a run did not finish"))
        return
    left, right = a.result[key], b.result[key]
    differ = sorted(k for k in left.keys() | right.keys() if left.get(k) != right.get(k))
    detail = f"{len(left)} departments" if not differ else f"differ on {', '.join(differ[:5])}"
    out.agreement.append((label, not differ, detail))


def _agree_actions(out: StoreResults, label: str, a: Outcome, decided: Outcome) -> None:
    if a.result is None or decided.result is None:
        out.agreement.append((label, None, "a run did not finish"))
        return
    actions = a.result["actions"]
    expected = {name: decided.result["signature"][name][0] for name in actions}
    differ = sorted(name for name in actions if actions[name] != expected[name])
    detail = f"{len(actions)} departments" if not differ else f"differ on {', '.join(differ[:5])}"
    out.agreement.append((label, not differ, detail))

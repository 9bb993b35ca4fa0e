"""The benchmark's results as Markdown tables: side by side at one size, growth, targets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from bench.plan import CHAMPIONS, PEOPLE_PER_DEPARTMENT
from bench.runner import Outcome
from bench.scenario import Config, StoreResults

NAMES = {"sqlite": "SQLite", "postgres": "PostgreSQL"}
TARGET_RATIO = 1.5
TARGET_WRITE_RATIO = 2.0  # the flow against the write lower bound
TARGET_NAIVE = 30.0  # the naive design against the flow, at least
TARGET_GROWTH = 2.2
TARGET_RATE = 200.0
TARGET_RSS_MB = 400.0


def seconds(value: float | None) -> str:
    if value is None:
        return "—"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _get(outcome: Outcome | None, key: str = "seconds") -> float | None:
    if outcome is None or outcome.result is None:
        return None
    value = outcome.result.get(key)
    return float(value) if value is not None else None


def _shown(outcome: Outcome | None, key: str = "seconds") -> str:
    if outcome is None:
        return "not run"
    if outcome.result is None:
        if outcome.error.startswith("skipped"):
            return outcome.error
        if outcome.timed_out:
            return f"> {outcome.limit:.0f} s (stopped)"
        return f"failed: {outcome.error[:80]}"
    return seconds(_get(outcome, key))


def _ratio(a: float | None, b: float | None) -> str:
    return f"{a / b:.2f}×" if a is not None and b else "—"


def side_by_side(results: Sequence[StoreResults], config: Config) -> str:
    n = config.departments
    rows: list[tuple[str, Callable[[StoreResults], str]]] = []

    def row(label: str, cell: Callable[[StoreResults], str]) -> None:
        rows.append((label, cell))

    def size(r: StoreResults) -> Any:
        return r.sizes.get(n)

    def flow(r: StoreResults) -> float | None:
        return _get(size(r).flow)

    def naive_each(r: StoreResults) -> float | None:
        total = _get(r.naive)
        return total / len(r.naive_names) if total is not None and r.naive_names else None

    def naive_total(r: StoreResults) -> float | None:
        each = naive_each(r)
        return each * n if each is not None else None

    row(
        "store generated: plan applied (`apply_plan`) + facts bulk-written",
        lambda r: _generated(size(r).generate),
    )
    row(
        "Prefect fixed start-up: first flow call of a process (temporary API server), "
        "+ importing Prefect and the flow",
        lambda r: f"{_shown(size(r).flow, 'startup')} + {_shown(size(r).flow, 'import_seconds')}",
    )
    row(
        "**pilotscale**: `readiness-check` flow, decide + apply, excluding start-up",
        lambda r: _shown(size(r).flow),
    )
    row(
        "pilotscale without Prefect: decide only (`prepare_check`)",
        lambda r: _shown(size(r).decide),
    )
    row(
        "pilotscale without Prefect: decide + apply (`run_readiness_check`)",
        lambda r: _apply_cell(size(r).apply),
    )
    row(
        "**lower bound**: decide only, raw SQL + pure core",
        lambda r: _shown(size(r).lower),
    )
    row(
        "**write lower bound**: decide as above, then write the same rows as pilotscale "
        "(department updates, transitions, gate results, entry actions, outbox) with raw SQL, "
        "one executemany per table, one transaction",
        lambda r: _writes_cell(size(r).writes),
    )
    row(
        f"**pilotscale flow / write lower bound** (target ≤ {TARGET_WRITE_RATIO:g}×)",
        lambda r: _ratio(flow(r), _get(size(r).writes)),
    )
    row(
        "pilotscale decide + apply without Prefect / write lower bound",
        lambda r: _ratio(_get(size(r).apply), _get(size(r).writes)),
    )
    row(
        f"pilotscale decide only / lower bound (target ≤ {TARGET_RATIO})",
        lambda r: _ratio(_get(size(r).decide), _get(size(r).lower)),
    )
    row(
        "pilotscale flow (decide + apply) / lower bound (decide only)",
        lambda r: _ratio(flow(r), _get(size(r).lower)),
    )
    row(
        "**naive**: one Prefect task per department, per department",
        lambda r: (
            f"{seconds(naive_each(r))} (over {len(r.naive_names)}, excluding start-up)"
            if r.naive and r.naive.ok
            else _shown(r.naive)
        ),
    )
    row(f"naive, extrapolated to {n:,} departments", lambda r: seconds(naive_total(r)))
    row(
        f"**naive / pilotscale flow** (target ≥ {TARGET_NAIVE:g}×)",
        lambda r: _ratio(naive_total(r), flow(r)),
    )
    row(
        "messages queued by the check (flow; decide + apply without Prefect)",
        lambda r: f"{_count(size(r).flow)}; {_count(size(r).apply)}",
    )
    row(
        "messages queued by the check, one per item (as before grouping) → one per person "
        "(`your_open_items` lists a person's held and stuck gates, overdue approvals and, "
        "for champions, their department's weekly state)",
        lambda r: _grouping(size(r).apply),
    )
    row("decisions (advance / hold / block / monitor / skip)", lambda r: _tally(size(r).apply))
    row(
        f"dispatch: queue {config.dispatch_messages:,} announcement messages (`enqueue`)",
        lambda r: _rate(_get(r.dispatch, "queue_seconds"), _get(r.dispatch, "queued")),
    )
    row(
        f"dispatch: send {config.dispatch_messages:,} to loopback SMTP (bounded concurrency), "
        f"target ≥ {TARGET_RATE:.0f}/s",
        lambda r: _send_cell(r.dispatch),
    )
    row(
        "naive loop over one long-lived Apprise instance, per message",
        lambda r: _apprise_cell(r.dispatch, config),
    )
    row(
        f"share_success_story (left out of the plan): {CHAMPIONS} × (N − 1) messages per "
        "department entering scaling, at the measured enqueue rate",
        lambda r: _fan_out(r, n),
    )
    row(
        f"peak RSS of the readiness-check flow process at N={config.largest:,} "
        f"(target ≤ {TARGET_RSS_MB:.0f} MB)",
        lambda r: _rss(r.sizes[config.largest].flow),
    )
    kinds = [NAMES[r.kind] for r in results]
    lines = [
        f"N = {n:,} departments, {n * PEOPLE_PER_DEPARTMENT:,} people, "
        f"{n * 1000:,} metric observations.",
        "",
        "| measure | " + " | ".join(kinds) + " |",
        "|---|" + "---|" * len(kinds),
    ]
    lines += [f"| {label} | " + " | ".join(cell(r) for r in results) + " |" for label, cell in rows]
    return "\n".join(lines)


def growth(results: Sequence[StoreResults], config: Config) -> str:
    lines = []
    for r in results:
        lines += [
            f"{NAMES[r.kind]} (each cell: time, and × the time at half the size):",
            "",
            "| departments | lower bound | pilotscale decide only | pilotscale decide + apply "
            "| readiness-check flow |",
            "|---|---|---|---|---|",
        ]
        previous: dict[str, float | None] = {}
        previous_n = 0
        for n, s in sorted(r.sizes.items()):
            cells = []
            for key, outcome in (
                ("lower", s.lower),
                ("decide", s.decide),
                ("apply", s.apply),
                ("flow", s.flow),
            ):
                value = _get(outcome)
                text = _shown(outcome) if outcome is not None else "—"
                before = previous.get(key)
                if value is not None and before and n == 2 * previous_n:
                    text += f" (×{value / before:.2f})"
                previous[key] = value
                cells.append(text)
            previous_n = n
            lines.append(f"| {n:,} | " + " | ".join(cells) + " |")
        lines.append("")
    return "\n".join(lines)


def agreement(results: Sequence[StoreResults]) -> str:
    lines = []
    for r in results:
        lines += [f"- {NAMES[r.kind]}, FAILED: {failure}" for failure in r.failures]
        for label, ok, detail in r.agreement:
            verdict = "not compared" if ok is None else "agree" if ok else "DIFFER"
            lines.append(f"- {NAMES[r.kind]}, {label}: {verdict} ({detail})")
    return "\n".join(lines)


def targets(results: Sequence[StoreResults], config: Config) -> str:
    n, lines = config.departments, []
    for r in results:
        name = NAMES[r.kind]
        s = r.sizes[n]
        lines.append(
            _target(
                f"{name}: decide only / lower bound at N={n:,}",
                _get(s.decide),
                _get(s.lower),
                TARGET_RATIO,
            )
        )
        lines.append(
            _target(
                f"{name}: readiness-check flow (decide + apply) / lower bound at N={n:,}",
                _get(s.flow),
                _get(s.lower),
                TARGET_RATIO,
            )
        )
        lines.append(
            _target(
                f"{name}: readiness-check flow / write lower bound at N={n:,}",
                _get(s.flow),
                _get(s.writes),
                TARGET_WRITE_RATIO,
            )
        )
        naive = _get(r.naive)
        flow_seconds = _get(s.flow)
        if naive is not None and r.naive_names and flow_seconds:
            ratio = naive / len(r.naive_names) * n / flow_seconds
            verdict = (
                "met" if ratio >= TARGET_NAIVE else f"MISSED by {1 - ratio / TARGET_NAIVE:.0%}"
            )
            lines.append(
                f"- {name}: naive design / readiness-check flow at N={n:,}: {ratio:.2f}×, "
                f"target ≥ {TARGET_NAIVE:g}× — {verdict}"
            )
        for key, label in (
            ("decide", "decide only"),
            ("apply", "decide + apply"),
            ("flow", "readiness-check flow"),
        ):
            worst = _worst_doubling(r, key)
            if worst is not None:
                growth_n, ratio = worst
                verdict = "met" if ratio <= TARGET_GROWTH else "MISSED"
                lines.append(
                    f"- {name}: growth of pilotscale {label}, worst doubling (to N={growth_n:,}): "
                    f"×{ratio:.2f}, target ≤ ×{TARGET_GROWTH} — {verdict}"
                )
        sent, took = _get(r.dispatch, "sent"), _get(r.dispatch)
        if sent and took:
            rate = sent / took
            verdict = "met" if rate >= TARGET_RATE else "MISSED"
            lines.append(
                f"- {name}: dispatch {rate:.0f} messages/s, target ≥ {TARGET_RATE:.0f} — {verdict}"
            )
        rss = r.sizes[config.largest].flow
        if rss is not None and (rss.ok or rss.timed_out):
            verdict = "met" if rss.rss_mb <= TARGET_RSS_MB else "MISSED"
            stopped = " (stopped at the time limit)" if rss.timed_out else ""
            lines.append(
                f"- {name}: peak RSS at N={config.largest:,}: {rss.rss_mb:.0f} MB{stopped}, "
                f"target ≤ {TARGET_RSS_MB:.0f} MB — {verdict}"
            )
    return "\n".join(lines)


def _target(label: str, value: float | None, base: float | None, limit: float) -> str:
    if value is None or not base:
        return f"- {label}: not measured (a run did not finish)"
    ratio = value / base
    verdict = "met" if ratio <= limit else f"MISSED by {ratio / limit - 1:.0%}"
    return f"- {label}: {ratio:.2f}×, target ≤ {limit}× — {verdict}"


def _worst_doubling(r: StoreResults, key: str) -> tuple[int, float] | None:
    worst = None
    for n, s in sorted(r.sizes.items()):
        half = r.sizes.get(n // 2) if n % 2 == 0 else None
        if half is None:
            continue
        now, before = _get(getattr(s, key)), _get(getattr(half, key))
        if now is not None and before:
            ratio = now / before
            if worst is None or ratio > worst[1]:
                worst = (n, ratio)
    return worst


def _generated(outcome: Outcome) -> str:
    if outcome.result is None:
        return _shown(outcome)
    res = outcome.result
    return f"{seconds(res['apply_seconds'])} + {seconds(res['facts_seconds'])}"


def _apply_cell(outcome: Outcome) -> str:
    if outcome.result is None:
        return _shown(outcome)
    res = outcome.result
    return (
        f"{seconds(res['seconds'])} (decide {seconds(res['decide_seconds'])} + apply "
        f"{seconds(res['apply_seconds'])}; {res['enqueued']:,} messages queued)"
    )


def _writes_cell(outcome: Outcome | None) -> str:
    if outcome is None or outcome.result is None:
        return _shown(outcome)
    rows = outcome.result["rows"]
    return (
        f"{seconds(outcome.result['seconds'])} ({rows['notification']:,} messages, "
        f"{rows['gate_result']:,} gate results, {rows['transition']:,} transitions, "
        f"{rows['department']:,} department updates, "
        f"{rows['champion_onboarding'] + rows['training_assignment']:,} entry-action rows)"
    )


def _count(outcome: Outcome | None) -> str:
    if outcome is None or outcome.result is None:
        return "—"
    return f"{outcome.result['enqueued']:,}"


def _grouping(outcome: Outcome | None) -> str:
    g = (outcome.result or {}).get("grouping") if outcome is not None else None
    if not g:
        return "—"
    return (
        f"{g['before']:,} → {g['rows']:,} "
        f"({g['grouped_rows']:,} grouped messages listing {g['items']:,} items)"
    )


def _tally(outcome: Outcome) -> str:
    if outcome.result is None:
        return "—"
    t = outcome.result["tally"]
    return " / ".join(str(t.get(k, 0)) for k in ("advance", "hold", "block", "monitor", "skip"))


def _rate(took: float | None, count: float | None) -> str:
    if took is None or not count:
        return "—"
    return f"{seconds(took)} ({count / took:,.0f} messages/s)"


def _send_cell(outcome: Outcome | None) -> str:
    if outcome is None or outcome.result is None:
        return _shown(outcome)
    res = outcome.result
    rate = res["sent"] / res["seconds"] if res["seconds"] else 0.0
    return (
        f"{seconds(res['seconds'])} = **{rate:,.0f} messages/s** ({res['sent']:,} sent, "
        f"{res['received']:,} received, concurrency {res['concurrency']})"
    )


def _apprise_cell(outcome: Outcome | None, config: Config) -> str:
    each = _get(outcome, "naive_per_message")
    if each is None:
        return _shown(outcome)
    return (
        f"{seconds(each)} (over {config.apprise_messages}) → "
        f"{config.dispatch_messages:,} would take {seconds(each * config.dispatch_messages)}"
    )


def _fan_out(r: StoreResults, n: int) -> str:
    took, count = _get(r.dispatch, "queue_seconds"), _get(r.dispatch, "queued")
    if took is None or not count:
        return "—"
    messages = CHAMPIONS * (n - 1)
    return f"{messages:,} messages ≈ {seconds(messages * took / count)} per department"


def _rss(outcome: Outcome | None) -> str:
    if outcome is None:
        return "not run"
    if outcome.result is None and not outcome.timed_out:
        return _shown(outcome)
    before = _get(outcome, "rss_before_mb")
    extra = f" (after Prefect start-up: {before:.0f} MB)" if before is not None else ""
    stopped = ", stopped at the time limit" if outcome.timed_out else ""
    return f"{outcome.rss_mb:.0f} MB{extra}{stopped}"

"""One refusal root: every domain refusal is a pilotscale.refusal.Refusal, and whoever
presents one (an operator command, a flow run in this process) answers it alike."""

from __future__ import annotations

import importlib
import pkgutil
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import NoReturn

import pytest

from pilotscale.cli.commands.rollout_cmds import _guard
from pilotscale.cli.errors import CliError
from pilotscale.cli.launch import run_here
from pilotscale.core.permissions import NotAllowed
from pilotscale.core.phases import TransitionError
from pilotscale.db import StoreFailure
from pilotscale.deployments.serve import ServeConflict
from pilotscale.deployments.trigger import AmbiguousProgram
from pilotscale.engine.check import UnknownPeople
from pilotscale.engine.operator import Refused
from pilotscale.engine.start import StartRefused
from pilotscale.metrics.reader import ReadError
from pilotscale.plan.cron import CronProblem
from pilotscale.plan.problems import PlanError, Problem
from pilotscale.refusal import Refusal
from pilotscale.store.apply import ApplyRefused
from pilotscale.store.queries import NoProgram, NotFound
from pilotscale.store.versioned import ConcurrentUpdate

# Modules that do something when imported: Alembic's environment needs a migration context.
_NOT_IMPORTED = ("pilotscale.migrations.env", "pilotscale.migrations.versions.")

# Every exception class defined under pilotscale: a refusal, with the exit code the CLI
# ends with and the HTTP status a web layer answers (both by its kind: 3 and 404 for
# Missing, 4 and 409 for Conflict, 2 for the rest); or not a refusal, and why not.
REFUSALS: dict[str, tuple[int, int]] = {
    "pilotscale.core.permissions.NotAllowed": (2, 403),
    "pilotscale.links.LinkRefused": (2, 403),
    "pilotscale.core.phases.TransitionError": (4, 409),
    "pilotscale.engine.start.StartRefused": (4, 409),
    "pilotscale.engine.acting.Refused": (4, 409),
    "pilotscale.engine.acting.LinkUsed": (4, 409),
    "pilotscale.core.duties.ReasonRequired": (2, 422),
    "pilotscale.core.duties.OutOfDate": (4, 409),
    "pilotscale.core.duties.SelfApproval": (2, 403),
    "pilotscale.store.apply.ApplyRefused": (4, 409),
    "pilotscale.store.versioned.ConcurrentUpdate": (4, 409),
    "pilotscale.deployments.serve.ServeConflict": (4, 409),
    "pilotscale.store.queries.NotFound": (3, 404),
    "pilotscale.store.queries.NoProgram": (3, 404),
    "pilotscale.deployments.trigger.AmbiguousProgram": (2, 400),
    "pilotscale.plan.problems.PlanError": (2, 422),
    "pilotscale.plan.cron.CronProblem": (2, 422),
    "pilotscale.metrics.reader.ReadError": (2, 422),
    # The web app's (pilotscale.web): each answered with a page and this status.
    "pilotscale.web.actions.AlreadyUsed": (4, 409),
    "pilotscale.web.csrf.CsrfRefused": (2, 403),
    "pilotscale.web.sso.UntrustedIdentity": (2, 403),
    "pilotscale.web.webapp.NoLinks": (2, 403),
    "pilotscale.web.serving.PortInUse": (4, 409),
    "pilotscale.engine.check.UnknownPeople": (2, 422),
    # The kinds themselves.
    "pilotscale.refusal.Refusal": (2, 400),
    "pilotscale.refusal.Forbidden": (2, 403),
    "pilotscale.refusal.Missing": (3, 404),
    "pilotscale.refusal.Conflict": (4, 409),
    "pilotscale.refusal.Invalid": (2, 422),
}
NOT_REFUSALS: dict[str, str] = {
    "pilotscale.cli.errors.CliError": "what the CLI prints for any expected failure",
    "pilotscale.cli.errors.Unexpected": "a bug, printed in one line with exit code 1",
    "pilotscale.db.StoreError": "the store cannot be used: a library failure",
    "pilotscale.demo_links.DemoLinkError": "the demo's own email or page is not as expected: a bug",
    "pilotscale.db.StoreUnavailable": "the database cannot be reached",
    "pilotscale.db.StoreFailure": "a database error mid-command (full, locked...)",
    "pilotscale.metrics.fetch.SourceError": "a metric source failed: its gates pend",
    "pilotscale.secrets.SecretUnreadable": "a Secret block unreadable: its channel or source fails",
    "pilotscale.metrics.fetch._Transient": "a source failure worth another attempt",
    "pilotscale.plan.yamlsource._Stop": "the YAML reader's own control flow (a PlanError)",
    "pilotscale.notifications.render.TemplateProblem": "a template fails: the message is dead",
    "pilotscale.notifications.channels.ChannelUnavailable": "a channel is down: retried",
    "pilotscale.notifications.sandbox.TemplateLimitError": "a template's work limit",
    "pilotscale.deployments.local_server.LocalServerError": "Prefect's server did not start",
}


def _modules() -> list[str]:
    """Every module of pilotscale, the folders installed under its name too (pyproject's
    package-dir), which walking pilotscale's own folder does not reach."""
    pyproject = tomllib.loads((Path(__file__).parents[2] / "pyproject.toml").read_text())
    names = []
    for package in pyproject["tool"]["setuptools"]["package-dir"]:
        names.append(package)
        path = importlib.import_module(package).__path__
        names += [m.name for m in pkgutil.walk_packages(path, f"{package}.")]
    return sorted(n for n in set(names) if not n.startswith(_NOT_IMPORTED))


def _exception_classes() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        loaded = importlib.import_module(name)
        for value in vars(loaded).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__ == name
            ):
                found[f"{name}.{value.__qualname__}"] = value
    return found


def test_every_exception_class_is_classified_and_every_refusal_subclasses_refusal() -> None:
    found = _exception_classes()

    assert sorted(found) == sorted({*REFUSALS, *NOT_REFUSALS}), (
        "classify each new exception class here: a refusal (exit code, HTTP status) or not"
    )
    for name, cls in found.items():
        assert issubclass(cls, Refusal) is (name in REFUSALS), name


@pytest.mark.parametrize(("name", "codes"), sorted(REFUSALS.items()))
def test_each_refusal_has_its_exit_code_and_http_status(name: str, codes: tuple[int, int]) -> None:
    cls = _exception_classes()[name]
    assert issubclass(cls, Refusal)
    assert (cls.exit_code, cls.http_status) == codes


# One of each refusal, as the code raises it.
SAMPLES: list[Refusal] = [
    NotAllowed("nobody@acme.example may not start 'hr': only maria.lopez@acme.example"),
    TransitionError("'hr' is paused: resume it first"),
    StartRefused("hr", ["wave 2 starts when wave 1 reached scaling", "max_active reached"]),
    Refused("'hr' is already paused"),
    ApplyRefused(["department 'hr' is in flight; removing it needs --force"]),
    ConcurrentUpdate("hr"),
    ServeConflict("readiness-check/acme is on work pool 'prod'; serving would take it off"),
    NotFound("department", "hrr", ["hr", "sales"]),
    NoProgram("no program in the store yet; apply a plan first: pilotscale apply PLAN"),
    AmbiguousProgram("readiness-check", ["acme", "globex"]),
    PlanError([Problem("plan.yaml", 3, "gates", "first"), Problem("plan.yaml", 9, "x", "second")]),
    CronProblem("hour 25 is out of range 0–23"),
    ReadError(4, "the file is UTF-16 text; save it as UTF-8"),
    UnknownPeople(["departments[0].champions[1]: champion 'e1042' is neither ..."]),
]


def _raising(exc: BaseException) -> Callable[[], NoReturn]:
    def action() -> NoReturn:
        raise exc

    return action


@pytest.mark.parametrize("exc", [*SAMPLES, StoreFailure("the disk is full", "free space")])
def test_an_operator_command_and_a_flow_run_here_answer_a_failure_alike(
    exc: BaseException,
) -> None:
    """`_guard` (pause, resume, approve, ...) and `run_here` (start, check, rollout) once
    caught different lists of exception types; both now go through one_line_failures."""

    async def flow() -> None:
        raise exc

    with pytest.raises(CliError) as by_command:
        _guard(_raising(exc))
    with pytest.raises(CliError) as by_flow:
        run_here(flow)

    assert str(by_command.value) == str(by_flow.value)
    expected = exc.exit_code if isinstance(exc, Refusal) else 1  # the store failing: 1
    assert by_command.value.exit_code == by_flow.value.exit_code == expected
    assert by_command.value.hint == by_flow.value.hint
    assert "\n" not in str(by_command.value)


def test_a_refusal_is_one_line_with_the_count_of_the_rest() -> None:
    many = PlanError([Problem("p.yaml", 3, "gates", "first"), Problem("p.yaml", 9, "x", "two")])

    assert many.message == "p.yaml:3: gates: first (and 1 more)"
    assert StartRefused("hr", ["a", "b"]).message == "cannot start 'hr': a; b"


def test_a_bug_is_not_a_refusal_and_goes_on_as_it_is() -> None:
    async def flow() -> None:
        raise KeyError("bug")

    with pytest.raises(KeyError):
        _guard(_raising(KeyError("bug")))
    with pytest.raises(KeyError):
        run_here(flow)

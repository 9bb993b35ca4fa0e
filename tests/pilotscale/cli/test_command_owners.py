"""The installed command imports only the module of the command it runs
(`pilotscale.cli.commands.only_for`): its table of owners must name every command each
module registers, and nothing else, or a command would go missing from its own run."""

from __future__ import annotations

import pytest

from pilotscale.cli import commands
from pilotscale.cli.app import app


def registered() -> dict[str, str]:
    """Each top-level command and group on the app -> the module that registered it."""
    commands.load()
    found = {
        (c.name or c.callback.__name__): c.callback.__module__
        for c in app.registered_commands
        if c.callback is not None
    }
    for group in app.registered_groups:
        typer_app = group.typer_instance
        assert typer_app is not None
        callbacks = [c.callback for c in typer_app.registered_commands if c.callback]
        found[str(group.name)] = callbacks[0].__module__
    return found


def test_every_command_is_owned_by_the_module_that_registers_it() -> None:
    owners = {name: f"pilotscale.cli.commands.{module}" for name, module in commands.OWNERS.items()}
    assert owners == registered()


@pytest.mark.parametrize(
    ("argv", "only"),
    [
        (["status"], "view_cmds"),
        (["--verbose", "check", "--dry-run"], "rollout_cmds"),
        (["db", "current"], "store_cmds"),
        (["stauts"], None),  # a typo: every command, so click can suggest the right one
        (["--help"], None),
        ([], None),
    ],
)
def test_a_command_line_narrows_to_the_module_it_names(
    argv: list[str], only: str | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(commands.COMPLETING, raising=False)
    try:
        assert commands.only_for(argv) == only
    finally:
        commands.only_for([])


def test_completion_needs_every_command(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(commands.COMPLETING, "complete_bash")
    try:
        assert commands.only_for(["status"]) is None
    finally:
        monkeypatch.delenv(commands.COMPLETING)
        commands.only_for([])

"""Each module registers its commands on `pilotscale.cli.app.app` when imported.

`load()` imports them all: what `pilotscale.cli.main` does, so `--help`, completion and
whoever imports the app see every command. The installed command narrows that first
(`only_for(argv)`, from `pilotscale.cli.script`): a command line that names a known
command imports that command's module alone, which spares a read command the other
modules' imports and typer building all 34 commands (about 20 ms of a 0.5 s budget).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib import import_module

# Each top-level command and command group -> the module that registers it
# (tests/pilotscale/cli/test_command_owners.py holds it to what the modules register).
OWNERS: dict[str, str] = {
    **dict.fromkeys(
        (
            "start",
            "check",
            "rollout",
            "pause",
            "resume",
            "abort",
            "rollback",
            "approve",
            "reject",
            "attest",
            "ack",
            "decline",
            "barrier",
        ),
        "rollout_cmds",
    ),
    "waive": "control_cmds",
    "program": "control_cmds",
    "serve": "deploy_cmds",
    "deploy": "deploy_cmds",
    "note": "notes_cmds",
    "dispatch": "notify_cmds",
    "outbox": "notify_cmds",
    "notify": "notify_cmds",
    "templates": "notify_cmds",
    "validate": "plan_cmds",
    "schema": "plan_cmds",
    "report": "report_cmds",
    "apply": "store_cmds",
    "db": "store_cmds",
    "version": "view_cmds",
    "status": "view_cmds",
    "explain": "view_cmds",
    "history": "view_cmds",
    "web": "web_cmds",
    "metrics": "metrics_cmds",
    "people": "people_cmds",
}
MODULES = tuple(sorted(set(OWNERS.values())))
# Set by click's shell completion: it lists every command, so every module is needed.
COMPLETING = "_PILOTSCALE_COMPLETE"

_only: str | None = None


def only_for(argv: Sequence[str]) -> str | None:
    """Register, in this process, only the module of the command `argv` names, if it
    names a known one first (after any options); otherwise, and when completing, all.
    Returns that module's name, or None for all."""
    global _only
    named = next((arg for arg in argv if not arg.startswith("-")), None)
    _only = None if COMPLETING in os.environ else OWNERS.get(named or "")
    return _only


def load() -> None:
    """Import the command modules (see the module doc for which)."""
    for module in (_only,) if _only is not None else MODULES:
        import_module(f"{__name__}.{module}")

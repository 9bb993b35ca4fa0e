"""Each module registers its commands on `pilotscale.cli.main.app` when imported."""

from pilotscale.cli.commands import plan_cmds, store_cmds, view_cmds  # noqa: F401

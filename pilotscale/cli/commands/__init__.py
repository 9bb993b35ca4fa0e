"""Each module registers its commands on `pilotscale.cli.app.app` when imported."""

from pilotscale.cli.commands import (  # noqa: F401
    control_cmds,
    deploy_cmds,
    metrics_cmds,
    notes_cmds,
    notify_cmds,
    people_cmds,
    plan_cmds,
    report_cmds,
    rollout_cmds,
    store_cmds,
    view_cmds,
    web_cmds,
)

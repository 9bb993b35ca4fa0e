"""`serve` and `deploy`: putting the flows on Prefect, on one machine or on a work pool."""

from __future__ import annotations

from typing import TYPE_CHECKING

import typer

from pilotscale.cli.app import app
from pilotscale.cli.errors import CliError, refused
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import plain
from pilotscale.refusal import Exit

if TYPE_CHECKING:
    from pilotscale.deployments.definitions import ProgramSchedules


def say(line: str) -> None:
    # Plain and flushed: the lines are read by people and by scripts tailing a pipe.
    print(plain(line), flush=True)


def _program_schedules() -> list[ProgramSchedules]:
    from pilotscale.deployments.definitions import load_program_schedules

    programs = load_program_schedules(engine=store_engine())
    if not programs:
        raise CliError(
            "no program in the store yet; apply a plan first: pilotscale apply PLAN",
            exit_code=Exit.not_found,
        )
    return programs


@app.command()
def serve(
    port: int = typer.Option(
        4200,
        "--port",
        help="Port of the local Prefect server started when PREFECT_API_URL is not set.",
    ),
    reload_every: float = typer.Option(
        60.0,
        "--reload-every",
        min=0.5,
        help="Seconds between looks at the applied plan for changed schedules.",
    ),
    no_web: bool = typer.Option(
        False, "--no-web", help="Do not start the web app (board, actions from links)."
    ),
    web_host: str = typer.Option("127.0.0.1", "--web-host", help="Address of the web app."),
    web_port: int = typer.Option(8400, "--web-port", help="Port of the web app."),
    in_own_session: bool = typer.Option(False, "--in-own-session", hidden=True),
) -> None:
    """Serve every deployment from this process until Ctrl-C.

    Scheduled readiness checks and weekly digests (cron and time zone from the plan),
    the notification dispatcher (every minute), and the on-demand flows (start-department,
    rollout-program). Flow runs execute as subprocesses of this one; Ctrl-C reaches
    serve alone, which cancels the runs in flight in order before it exits.

    Also serves the web app (`pilotscale web`) on --web-host/--web-port unless --no-web.

    Uses the Prefect server in PREFECT_API_URL; without one, starts a local Prefect server
    (schedules need its scheduler) and stops it on exit. Re-applying a plan with another
    schedule updates the deployment while it serves.

    Example:

      pilotscale serve

      PREFECT_API_URL=http://127.0.0.1:4200/api pilotscale serve
    """
    if not in_own_session:
        # Ctrl-C must reach serve only, which then cancels its runs in order; see own_session.
        from pilotscale.cli.own_session import run_in_own_session

        argv = ["serve", "--port", str(port), "--reload-every", str(reload_every)]
        argv += ["--web-host", web_host, "--web-port", str(web_port)]
        argv += ["--no-web"] if no_web else []
        raise typer.Exit(run_in_own_session([*argv, "--in-own-session"]))

    import asyncio

    import httpx
    from prefect.settings import PREFECT_API_URL, temporary_settings

    from pilotscale.deployments.local_server import (
        LocalServer,
        LocalServerError,
        start_local_server,
    )
    from pilotscale.deployments.serve import ServeConflict
    from pilotscale.deployments.serve import serve as serve_all
    from pilotscale.deployments.trigger import api_url

    programs = _program_schedules()
    url = api_url()
    server: LocalServer | None = None
    web = None
    if not no_web:
        # Imported only when used: FastAPI and uvicorn stay out of every other command.
        from pilotscale.web.serving import start_in_thread

        web = start_in_thread(engine=store_engine(), host=web_host, port=web_port)
        say(f"web app: http://{web_host}:{web_port}/")
    if url is None:
        from pilotscale.settings import get_settings

        log = get_settings().data_dir / "prefect-server.log"
        log.parent.mkdir(parents=True, exist_ok=True)
        say(f"no PREFECT_API_URL set: starting a local Prefect server on port {port} (log: {log})")
        try:
            server = start_local_server(port=port, log=log)
        except LocalServerError as exc:
            raise CliError(str(exc), exit_code=Exit.failure) from None
        url = server.api_url
        say(f"Prefect UI: {server.url} — other terminals: export PREFECT_API_URL={url}")
    try:
        with temporary_settings({PREFECT_API_URL: url}):
            asyncio.run(
                serve_all(
                    engine=store_engine(), programs=programs, say=say, reload_every=reload_every
                )
            )
    except (httpx.TransportError, OSError) as exc:
        raise CliError(
            f"cannot reach the Prefect API at {url}: {type(exc).__name__}", exit_code=Exit.failure
        ) from None
    except ServeConflict as exc:
        raise refused(exc) from None
    finally:
        if web is not None:
            web.stop()
        if server is not None:
            server.stop()
            say("local Prefect server stopped")


@app.command()
def deploy(
    work_pool: str = typer.Option(
        ..., "--work-pool", help="Process work pool to deploy to; created if missing."
    ),
) -> None:
    """Deploy every deployment to a process work pool of the Prefect server in PREFECT_API_URL.

    Workers started with `prefect worker start --pool NAME` (any number, on any machine
    with pilotscale installed and PILOTSCALE_DATABASE_URL set) then run them. Run it
    again after re-applying a plan with another schedule: it updates the deployments.

    Example:

      PREFECT_API_URL=http://prefect.internal:4200/api pilotscale deploy --work-pool pilotscale
    """
    import asyncio

    import httpx

    from pilotscale.deployments.definitions import all_specs
    from pilotscale.deployments.deploy import deploy as deploy_all
    from pilotscale.deployments.trigger import api_url

    url = api_url()
    if url is None:
        raise CliError(
            "deploy needs a Prefect server: set PREFECT_API_URL (e.g. "
            "http://127.0.0.1:4200/api after `prefect server start`); on one machine "
            "`pilotscale serve` needs neither"
        )
    specs = all_specs(_program_schedules())
    try:
        pool, created, registered = asyncio.run(deploy_all(specs=specs, work_pool=work_pool))
    except (httpx.TransportError, OSError) as exc:
        raise CliError(
            f"cannot reach the Prefect API at {url}: {type(exc).__name__}", exit_code=Exit.failure
        ) from None
    say(f"work pool '{pool.name}' ({pool.type}): {'created' if created else 'already there'}")
    for item in registered:
        say(f"  {item.line()}")
    say(f"next: prefect worker start --pool {pool.name}   (on each machine that runs flows)")

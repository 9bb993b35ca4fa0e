"""`pilotscale web`: the program board, department pages and actions from signed links."""

from __future__ import annotations

import typer

from pilotscale.cli.app import app
from pilotscale.cli.store import store_engine
from pilotscale.cli.text import plain

HOST_HELP = "Address to listen on; the default (loopback) is reached through a proxy."


@app.command()
def web(
    host: str = typer.Option("127.0.0.1", "--host", help=HOST_HELP),
    port: int = typer.Option(8400, "--port", help="Port to listen on."),
) -> None:
    """Serve the web app until Ctrl-C: the program board, department pages, "my actions",
    the live report, and the pages people confirm actions on from their messages' links.

    PILOTSCALE_BASE_URL is the address put in messages; PILOTSCALE_LINK_SECRET signs the
    links; PILOTSCALE_TRUSTED_PROXIES names the single sign-on proxy whose
    X-Forwarded-Email header is trusted (without one, the pages are read only).

    Example:

      pilotscale web --port 8400
    """
    # Imported here: `pilotscale --help` and every other command never load FastAPI.
    from pilotscale.web.serving import check_port, check_store, run

    engine = store_engine()
    check_store(engine)
    check_port(host, port)
    print(plain(f"pilotscale web: http://{_shown(host)}:{port}/ (Ctrl-C to stop)"), flush=True)
    from pilotscale.settings import get_settings

    base = get_settings().base_url
    if base:
        print(plain(f"links in messages point to {base}"), flush=True)
    run(engine=engine, host=host, port=port)


def _shown(host: str) -> str:
    return f"[{host}]" if ":" in host else host

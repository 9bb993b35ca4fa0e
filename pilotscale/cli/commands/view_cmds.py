"""TODO"""

from pilotscale.cli.main import app  # noqa: F401


@app.command()
def version() -> None:
    """Print the pilotscale version."""
    from importlib.metadata import version as _v

    print(_v("pilotscale"))

"""pilotscale as a user installs it: a built wheel puts only `pilotscale` in
site-packages (flows/, tasks/, models/, notifications/ and deployments/ inside it, never
as generic top-level packages) and works from a fresh virtual environment that holds
nothing but it and its locked dependencies."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import venv
import zipfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
MAPPED = ("flows", "tasks", "models", "notifications", "deployments")


def _setuptools() -> dict:  # type: ignore[type-arg]
    return tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_package_folder_is_listed_under_the_product_name() -> None:
    """A new sub-package that is not listed would be missing from the wheel."""
    found = {
        ".".join(("pilotscale", *init.parent.relative_to(REPO).parts))
        if init.parts[len(REPO.parts)] in MAPPED
        else ".".join(init.parent.relative_to(REPO).parts)
        for top in ("pilotscale", *MAPPED)
        for init in (REPO / top).rglob("__init__.py")
        if "__pycache__" not in init.parts
    }
    assert set(_setuptools()["packages"]) == found
    assert _setuptools()["package-dir"] == {
        "pilotscale": "pilotscale",
        **{f"pilotscale.{name}": name for name in MAPPED},
    }


def test_nothing_imports_the_generic_names() -> None:
    """`import models` would load a second copy of every table (or another project's
    `models`); the code imports pilotscale.models only."""
    offenders = []
    for path in REPO.rglob("*.py"):
        if {".venv", "build", "__pycache__"} & set(path.parts):
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            stripped = line.strip()
            for name in MAPPED:
                if stripped.startswith((f"from {name} ", f"from {name}.", f"import {name}")):
                    offenders.append(f"{path.relative_to(REPO)}:{number}: {stripped}")
    assert offenders == []


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--quiet",
            "--no-deps",
            "--no-build-isolation",
            "--wheel-dir",
            str(out),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    (built,) = out.glob("pilotscale-*.whl")
    return built


@pytest.mark.slow
def test_the_wheel_holds_only_pilotscale(wheel: Path) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = archive.namelist()
    top = {name.split("/", 1)[0] for name in names}
    assert {t for t in top if not t.endswith(".dist-info")} == {"pilotscale"}
    for name in MAPPED:
        assert f"pilotscale/{name}/__init__.py" in names
    assert "pilotscale/notifications/templates/gate_held/subject.txt" in names
    assert "pilotscale/deployments/automations/next-wave-on-advance.yaml" in names
    assert any(n.startswith("pilotscale/migrations/versions/0001") for n in names)
    assert "pilotscale/report/templates/report.html.j2" in names


@pytest.fixture(scope="module")
def installed(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the locked dependencies and the wheel, nothing else
    (not the repository: the commands run from an empty folder)."""
    home = tmp_path_factory.mktemp("fresh-venv")
    venv.create(home / "venv", with_pip=True)
    python = home / "venv" / "bin" / "python"
    subprocess.run(
        [
            str(python),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-r",
            str(REPO / "requirements" / "runtime.lock"),
        ],
        check=True,
        timeout=900,
    )
    subprocess.run(
        [str(python), "-m", "pip", "install", "--quiet", "--no-deps", str(wheel)],
        check=True,
        timeout=300,
    )
    return home


def _run(home: Path, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    work = home / "work"
    work.mkdir(exist_ok=True)
    env = {
        "PATH": f"{home / 'venv' / 'bin'}:/usr/bin:/bin",
        "HOME": str(home),
        "PILOTSCALE_DATA_DIR": str(home / "data"),
        "PREFECT_HOME": str(home / "prefect"),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PILOTSCALE_LOCAL_DELIVERY": "true",
        "LANG": os.environ.get("LANG", "C.UTF-8"),
    }
    return subprocess.run(
        [str(home / "venv" / "bin" / "pilotscale"), *args],
        cwd=work,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@pytest.mark.slow
def test_the_installed_wheel_runs_the_product(installed: Path) -> None:
    site = subprocess.run(
        [
            str(installed / "venv" / "bin" / "python"),
            "-c",
            "import sysconfig; print(sysconfig.get_paths()['purelib'])",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    for name in MAPPED:
        assert not (Path(site) / name).exists(), f"a top-level '{name}' was installed"
    plan = str(REPO / "examples" / "acme-ai-assistant.yaml")
    usage = str(REPO / "examples" / "acme-usage.csv")

    for args in (
        ("validate", plan, "--allow-incomplete"),  # Sales: no content owner, on purpose
        ("apply", plan, "--allow-incomplete"),
        ("templates", "check"),
        ("start", "hr", "--by", "maria.lopez@acme.example", "--as-of", "2026-10-05T08:00Z"),
        ("check", "--as-of", "2026-10-12T08:00Z"),
        ("metrics", "import", usage, "--as-of", "2026-12-21T08:00Z"),
        ("report", "--out", str(installed / "report.html"), "--as-of", "2026-12-21T08:00Z"),
    ):
        result = _run(installed, *args)
        assert result.returncode == 0, (
            f"pilotscale {' '.join(args)}:\n{result.stdout}{result.stderr}"
        )
    assert "Traceback" not in result.stderr
    assert (installed / "report.html").read_text().startswith("<!DOCTYPE html>")

"""The locks: stamped by the scheduler tests, consistent with requirements/*.in, and every
upper bound explained where it is declared."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

from packaging.requirements import Requirement
from packaging.version import Version

REPO = Path(__file__).resolve().parents[2]
REQ = REPO / "requirements"


def _lock_script() -> ModuleType:
    spec = importlib.util.spec_from_file_location("lock_script", REPO / "scripts" / "lock.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _locked() -> dict[str, Version]:
    pins = {}
    for name in ("runtime.lock", "dev.lock"):
        for line in (REQ / name).read_text().splitlines():
            if "==" in line and not line.startswith("#"):
                package, version = line.split("==", 1)
                pins[package.strip().lower().replace("_", "-")] = Version(version.strip())
    return pins


def _declared(name: str) -> list[tuple[Requirement, list[str]]]:
    """Each requirement of an .in file, with the comment lines above it and its own."""
    out: list[tuple[Requirement, list[str]]] = []
    comments: list[str] = []
    for raw in (REQ / name).read_text().splitlines():
        line = raw.strip()
        if not line:
            comments = []
        elif line.startswith("#"):
            comments.append(line)
        else:
            spec, _, comment = line.partition("#")
            out.append((Requirement(spec.strip()), [*comments, comment]))
            comments = []
    return out


def test_the_locks_were_verified_by_the_scheduler_tests() -> None:
    """A re-lock (make lock) that changed any version without the scheduler tests passing
    on it afterwards (make lock-verify) fails here: SQLAlchemy 2.1 once broke Prefect's
    scheduler with every other test green."""
    lock = _lock_script()
    stamped = (REQ / "verified.sha256").read_text().split()[0]
    assert stamped == lock.locks_digest(), (
        "requirements/*.lock changed since the scheduler tests last passed on them: "
        "run `make lock-verify`"
    )


def test_the_digest_moves_with_any_version(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    lock = _lock_script()
    for name in lock.LOCKS:
        (tmp_path / name).write_text((REQ / name).read_text())
    monkeypatch.setattr(lock, "REQ", tmp_path)
    before = lock.locks_digest()
    text = (tmp_path / "runtime.lock").read_text()
    (tmp_path / "runtime.lock").write_text(
        re.sub(r"(?im)^sqlalchemy==\S+$", "SQLAlchemy==2.1.9", text)
    )
    assert lock.locks_digest() != before


def test_every_locked_version_satisfies_what_is_declared() -> None:
    pins = _locked()
    for name in ("runtime.in", "dev.in"):
        for requirement, _ in _declared(name):
            key = requirement.name.lower().replace("_", "-")
            assert key in pins, f"{requirement.name} is declared in {name} but not locked"
            assert requirement.specifier.contains(pins[key], prereleases=True), (
                f"{requirement.name}=={pins[key]} is locked but {name} asks {requirement}"
            )


def test_every_upper_bound_says_why() -> None:
    for name in ("runtime.in", "dev.in"):
        for requirement, comments in _declared(name):
            capped = any(s.operator in ("<", "<=", "==", "~=") for s in requirement.specifier)
            if capped:
                assert any(c.strip("# ").strip() for c in comments), (
                    f"{name}: {requirement} has an upper bound with no reason beside it"
                )


def test_the_pins_prefect_3_8_8_needs() -> None:
    """The versions the scheduler and the CLI were verified with (requirements/runtime.in)."""
    pins = _locked()
    assert pins["prefect"] == Version("3.8.8")
    assert pins["sqlalchemy"] < Version("2.1")
    assert pins["fastapi"] < Version("0.151")
    assert pins["apprise"] < Version("2")


def test_pyproject_declares_what_runtime_in_declares() -> None:
    """A wheel installed with pip alone resolves from pyproject.toml, not the lock: the
    same bounds must hold there, or a user's install gets SQLAlchemy 2.1."""
    import tomllib

    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    declared = {Requirement(r).name.lower(): Requirement(r) for r in project["dependencies"]}
    for requirement, _ in _declared("runtime.in"):
        name = requirement.name.lower()
        assert name in declared, f"{requirement.name} is in runtime.in but not pyproject.toml"
        assert declared[name].specifier == requirement.specifier, (
            f"{name}: pyproject.toml says {declared[name].specifier}, "
            f"runtime.in says {requirement.specifier}"
        )

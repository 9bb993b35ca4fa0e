"""Re-resolve requirements/*.lock from requirements/*.in, keeping every version already
locked unless it is named with --upgrade (or --upgrade-all).

The old locks are passed to pip as constraints, so a re-lock moves only what was asked
to move; a bound changed in an .in file that conflicts with a kept pin makes pip fail
and name the package: release it with --upgrade NAME. `make lock` runs this, then the
scheduler tests against the new lock, then `--stamp` (tests/test_locks.py fails on a
lock that was never stamped)."""

from __future__ import annotations

import argparse
import hashlib
import re
import subprocess
import sys
import tempfile
from pathlib import Path

REQ = Path(__file__).resolve().parents[1] / "requirements"
LOCKS = ("runtime.lock", "dev.lock")
STAMP = REQ / "verified.sha256"


def _name(line: str) -> str:
    return re.split(r"[=<>!~\[ ;]", line, maxsplit=1)[0].strip().lower().replace("_", "-")


def _pins(path: Path) -> list[str]:
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    return [x.strip() for x in lines if x.strip() and not x.startswith(("#", "-"))]


def locks_digest() -> str:
    digest = hashlib.sha256()
    for name in LOCKS:
        digest.update(name.encode() + b"\0" + (REQ / name).read_bytes())
    return digest.hexdigest()


def relock(upgrade: set[str], upgrade_all: bool) -> None:
    with tempfile.TemporaryDirectory(prefix="pilotscale-lock-") as tmp:
        venv = Path(tmp) / "venv"
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
        constraints = Path(tmp) / "constraints.txt"
        kept = (
            []
            if upgrade_all
            else [pin for lock in LOCKS for pin in _pins(REQ / lock) if _name(pin) not in upgrade]
        )
        constraints.write_text("\n".join(kept) + "\n", encoding="utf-8")
        freeze = [str(venv / "bin" / "python"), "-m", "pip", "freeze"]
        subprocess.run([*pip, "-r", str(REQ / "runtime.in"), "-c", str(constraints)], check=True)
        runtime = subprocess.run(freeze, check=True, capture_output=True, text=True).stdout
        (REQ / "runtime.lock").write_text(
            "# Locked runtime dependencies (pip freeze of a clean venv). "
            'Regenerate with "make lock".\n' + runtime,
            encoding="utf-8",
        )
        subprocess.run([*pip, "-r", str(REQ / "dev.in"), "-c", str(constraints)], check=True)
        both = subprocess.run(freeze, check=True, capture_output=True, text=True).stdout
        runtime_lines = set(runtime.splitlines())
        dev = [line for line in both.splitlines() if line not in runtime_lines]
        (REQ / "dev.lock").write_text(
            "# Locked development and test tools, on top of runtime.lock.\n"
            "# Regenerate: see 'make lock' in the Makefile.\n-r runtime.lock\n"
            + "\n".join(dev)
            + "\n",
            encoding="utf-8",
        )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--upgrade",
        action="append",
        default=[],
        metavar="NAME",
        help="let this package move (repeatable)",
    )
    parser.add_argument("--upgrade-all", action="store_true", help="re-resolve everything")
    parser.add_argument(
        "--stamp",
        action="store_true",
        help="record that the scheduler tests passed on the current locks",
    )
    parser.add_argument(
        "--check", action="store_true", help="exit 1 if the current locks were never stamped"
    )
    args = parser.parse_args()
    if args.stamp:
        STAMP.write_text(
            locks_digest() + "  runtime.lock+dev.lock (scheduler tests passed: make lock)\n",
            encoding="utf-8",
        )
        return 0
    if args.check:
        stamped = STAMP.read_text(encoding="utf-8").split()[0] if STAMP.exists() else ""
        if stamped != locks_digest():
            print(
                "the locks changed since the scheduler tests last passed on them: run "
                "`make lock-verify`",
                file=sys.stderr,
            )
            return 1
        return 0
    relock({_name(n) for n in args.upgrade}, args.upgrade_all)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

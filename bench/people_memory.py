"""`python -m bench.people_memory [N]`: memory held by N parsed plan people.

Each variant is parsed in a fresh process, from the same JSON, and its resident-set
growth printed: the plan's `Person` (a slotted pydantic dataclass) against the same
fields as a frozen pydantic model, which is what `Person` used to be.
"""

from __future__ import annotations

import json
import subprocess
import sys
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from pilotscale.plan.schema import Person, Role, Segment, Slug


class PersonModel(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Slug
    name: str = Field(min_length=1)
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
    chat: str | None = None
    department: str | None = None
    segment: Segment = Segment.casual
    roles: list[Role] = Field(default_factory=list)
    notify: Literal["email", "chat", "both", "digest"] = "email"


VARIANTS = {"dataclass (Person)": Person, "pydantic model": PersonModel}


def _people(count: int) -> str:
    return json.dumps(
        [
            {
                "id": f"p{i:06d}",
                "name": f"Person {i:06d}",
                "email": f"p{i:06d}@bench.example",
                "department": f"d{i // 100:04d}",
                "segment": "power" if i % 5 == 0 else "casual",
                "roles": ["champion"] if i % 20 == 0 else [],
            }
            for i in range(count)
        ]
    )


def _rss_mb() -> float:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return 0.0


def _measure(variant: str, count: int) -> float:
    text = _people(count)
    adapter: TypeAdapter[list[object]] = TypeAdapter(list[VARIANTS[variant]])  # type: ignore[misc]
    before = _rss_mb()
    parsed = adapter.validate_json(text)
    grown = _rss_mb() - before
    assert len(parsed) == count
    return grown


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "--one":
        print(f"{_measure(sys.argv[2], int(sys.argv[3])):.1f}")
        return
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{count:,} people parsed, resident memory grown by:")
    for variant in VARIANTS:
        out = subprocess.run(
            [sys.executable, "-m", "bench.people_memory", "--one", variant, str(count)],
            check=True,
            capture_output=True,
            text=True,
        )
        print(f"  {variant}: {float(out.stdout):.0f} MB")


if __name__ == "__main__":
    main()

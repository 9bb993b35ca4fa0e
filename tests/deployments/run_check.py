"""Child process of the concurrency test: one `readiness-check` flow run, in this process,
against the store and Prefect API of its environment; prints the result as JSON."""

from __future__ import annotations

import asyncio
import json
import sys
from datetime import datetime

from pilotscale.flows.readiness_check import readiness_check


def main() -> None:
    as_of = datetime.fromisoformat(sys.argv[1])
    result = asyncio.run(readiness_check(as_of=as_of, dispatch=False))
    print(json.dumps(result, default=str), flush=True)


if __name__ == "__main__":
    main()

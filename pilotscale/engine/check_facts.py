"""What a readiness check read that still holds once it has applied its decisions.

The check reads every active department's facts and evaluates its gates as of `now`;
the summary that follows shows the verdicts as of the same `now`. For a department the
check left in its visit to its phase (held, blocked, monitored) and whose facts it did
not write, those are the same facts: reading them again was a third of the summary
at 1,000 departments (0.4 of 1.1 s). The check's own writes that change them: a move (new phase,
new gates, new visit) and the training it assigns to newcomers.
"""

from __future__ import annotations

from pilotscale.core.decisions import Action
from pilotscale.engine.check import CheckReport, PreparedCheck
from pilotscale.engine.verdicts import DepartmentVerdict

# The decisions after which a department is in another visit to another phase.
_MOVES = frozenset({Action.advance, Action.rollback})


def standing_verdicts(prepared: PreparedCheck, report: CheckReport) -> dict[str, DepartmentVerdict]:
    """The check's verdicts a read after it would find again, by department name: for
    `read_verdicts(known=...)`, which still reads what the check records (pending
    streaks) and makes sure each is of the department's current visit."""
    moved = {d.department for d in report.decisions if d.action in _MOVES}
    # Another run changed it meanwhile: whatever it did, this check did not see it.
    moved |= set(report.conflicts)
    trained = {name for name, found in prepared.newcomers.items() if found}
    return {
        name: verdict
        for name, verdict in prepared.verdicts.items()
        if name not in moved and name not in trained
    }

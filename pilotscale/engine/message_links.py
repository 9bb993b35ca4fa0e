"""What a message is given when it is sent: the signed links to the web app, and whom
to ask when it has none.

Links are made here, at dispatch, for the one send: never at enqueue, so no token is
ever written to the outbox row, the store, a log line or a Prefect artifact. A link
names its person, department, gate and the department's phase visit as stored with
the message (`visit`, set at enqueue), so a message sent after the department moved
on carries links the web app refuses. Only people of the plan get signed links; a
channel (a team's chat room) gets the department and board pages only, since anyone
in the room could follow them.

Context keys added to every message at dispatch (`dispatch_context`):

- `links`: empty without `PILOTSCALE_BASE_URL` and a link key; otherwise `department`
  (messages about a department), `board`, and for a person `mine` (their own actions
  page) and the action links this message is for: `decide` (approval requests,
  reminders and escalations to an approver), `acknowledge` (a champion's welcome kit),
  `attest` (a held attestation gate, to its owner), `operate` (a blocked department,
  to its sponsor), `barrier` (a member or champion of the department).
- `item_links`: for a grouped message (`your_open_items`), one mapping per listed item:
  its `department` page and the action link the item asks of this person (`decide`,
  `attest`), bound to the item's own department and visit; empty without links.
- `operator`: the recipient is a program lead, who has the CLI (the fallback text
  names commands for them, and "ask the program lead" for everyone else).
- `program_lead`: `{name, email}` of the program lead (empty strings when unknown).
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pilotscale.core.messages import GROUPED, Job
from pilotscale.links import Link, Purpose, Signer, absolute, action_path, department_path
from pilotscale.plan.schema import Plan, Role
from pilotscale.redact import register

log = logging.getLogger(__name__)

DECIDE_EVENTS = frozenset({"approval_requested", "approval_reminder", "approval_escalation"})


@dataclass(frozen=True)
class LinkMaker:
    """The signer and the web app's public address: both are needed for any link."""

    signer: Signer
    base_url: str

    def url(self, path: str) -> str:
        return absolute(self.base_url, path)

    def signed(self, link: Link) -> str:
        return self.url(action_path(link.purpose, self.signer.sign(link)))


def configured_link_maker() -> LinkMaker | None:
    """From the settings; None (messages carry no links) without a base URL or a key.

    A link key that cannot be read (the Prefect API is down) is not fatal: messages go
    out without links, saying whom to ask, and the problem is logged (never the key)."""
    from pilotscale.links import from_settings
    from pilotscale.secrets import SecretUnreadable
    from pilotscale.settings import get_settings

    settings = get_settings()
    base_url = (settings.base_url or "").strip()
    if not base_url:
        return None
    try:
        signer = from_settings()
    except (SecretUnreadable, ValueError) as exc:  # unreadable, or a key too short
        log.warning("messages are sent without links: %s", exc)
        return None
    if signer is None:
        log.warning(
            "PILOTSCALE_BASE_URL is set but no link key is (PILOTSCALE_LINK_SECRET or "
            "PILOTSCALE_LINK_SECRET_BLOCK): messages are sent without links"
        )
        return None
    if settings.link_secret is not None:
        # Any error text or log line that would echo the key is scrubbed.
        register(settings.link_secret.get_secret_value())
    return LinkMaker(signer, base_url)


def dispatch_context(job: Job, plan: Plan | None, maker: LinkMaker | None) -> dict[str, Any]:
    """The keys added to `job.context` for this send (see the module docstring)."""
    recipient = job.context.get("recipient") or {}
    person_id = str(recipient.get("id") or "") if recipient.get("kind") == "person" else ""
    lead = plan.find_person(plan.program.lead) if plan is not None else None
    found = {
        "links": links_for(job, plan, maker) if maker is not None else {},
        "operator": bool(plan is not None and person_id and _is_lead(plan, person_id)),
        "program_lead": {"name": lead.name, "email": lead.email}
        if lead is not None
        else {"name": "", "email": ""},
    }
    if job.event == GROUPED:
        found["item_links"] = item_links(job, plan, maker) if maker is not None else []
    return found


# The event each kind of item would have had as a message of its own (core.grouping).
_ITEM_EVENTS = {
    "failing": "gate_held",
    "pending": "gate_held",
    "advisory": "gate_held",
    "approval": "approval_reminder",
    "approval_overdue": "approval_escalation",
}


def item_links(job: Job, plan: Plan | None, maker: LinkMaker) -> list[dict[str, str]]:
    """Per item of a grouped message: what `links_for` would give it as a message of its
    own, less what the whole message carries already (board, own page, barrier)."""
    recipient = job.context.get("recipient") or {}
    person = str(recipient.get("id") or "") if recipient.get("kind") == "person" else ""
    out: list[dict[str, str]] = []
    for item in job.context.get("items") or ():
        department = _name(item.get("department"))
        links = {"department": maker.url(department_path(department))} if department else {}
        spec = plan.departments_by_name.get(department) if plan is not None else None
        visit = str(item.get("visit") or "")
        event = _ITEM_EVENTS.get(str(item.get("kind")), "")
        if person and spec is not None and visit and plan is not None and plan.find_person(person):
            gate = _name(item.get("gate"), "gate")
            for purpose in _purposes(event, item, person, spec.sponsor, spec.champions):
                if purpose in _GATED:
                    links[purpose.value] = maker.signed(
                        Link(purpose, person, department, gate, visit)
                    )
        out.append(links)
    return out


def links_for(job: Job, plan: Plan | None, maker: LinkMaker) -> dict[str, str]:
    """The `links` mapping for one send of `job`."""
    context = job.context
    department = _name(context.get("department"))
    links = {"board": maker.url("/")}
    if department:
        links["department"] = maker.url(department_path(department))
    recipient = context.get("recipient") or {}
    if recipient.get("kind") != "person" or plan is None:
        return links  # a channel: anyone in the room could follow a signed link
    person = str(recipient.get("id") or "")
    if plan.find_person(person) is None:
        return links
    links["mine"] = maker.signed(Link(Purpose.mine, person))
    spec = plan.departments_by_name.get(department)
    visit = str(context.get("visit") or "")
    if spec is None or not visit:
        return links  # no department, or queued before visits were stored: no actions

    def action(purpose: Purpose, gate: str = "") -> str:
        return maker.signed(Link(purpose, person, department, gate, visit))

    gate = _name(context.get("gate"), "gate")
    for purpose in _purposes(job.event, context, person, spec.sponsor, spec.champions):
        links[purpose.value] = action(purpose, gate if purpose in _GATED else "")
    if person in spec.champions or _member(plan, person, department):
        links[Purpose.barrier.value] = action(Purpose.barrier)
    return links


_GATED = frozenset({Purpose.decide, Purpose.attest})


def _purposes(
    event: str, context: Mapping[str, Any], person: str, sponsor: str | None, champions: list[str]
) -> list[Purpose]:
    """The actions this message asks `person` for (at most one today)."""
    found = context.get("gate")
    gate: Mapping[str, Any] = found if isinstance(found, Mapping) else {}
    if event in DECIDE_EVENTS:
        approvers = {_name(a, "id") for a in context.get("approvers") or ()}
        return [Purpose.decide] if person in approvers and gate.get("gate") else []
    if event == "champion_welcome":
        return [Purpose.acknowledge] if person in champions else []
    if event == "gate_held":
        owner = _name(gate.get("owner"), "id")
        is_attestation = gate.get("kind") == "attestation" and gate.get("gate")
        return [Purpose.attest] if is_attestation and owner == person else []
    if event in ("department_blocked", "monitoring_regressed"):
        return [Purpose.operate] if person == sponsor else []
    return []


def _name(value: Any, key: str = "name") -> str:
    return str(value.get(key) or "") if isinstance(value, Mapping) else ""


def _member(plan: Plan, person: str, department: str) -> bool:
    found = plan.find_person(person)
    return found is not None and found.department == department


def _is_lead(plan: Plan, person: str) -> bool:
    found = plan.find_person(person)
    return found is not None and (person == plan.program.lead or Role.lead in found.roles)

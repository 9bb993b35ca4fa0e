"""Who did something, and how we know: every recorded action carries its actor.

The open-source Prefect server has no user identity, so pilotscale records where each
identity came from. A person acts for themself; an operator acting for someone else says
so (`--on-behalf-of PERSON --reason TEXT`), and that is shown wherever the action is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Source(StrEnum):
    """Where an actor's identity came from, strongest first."""

    proxy = "proxy"  # the company's single sign-on, via a trusted proxy's header
    link = "link"  # a signed link sent to that person
    cli = "cli"  # `--by PERSON` typed at the CLI: asserted, recorded with the OS user
    on_behalf = "on_behalf"  # an operator (`--by`) acting for someone else, with a reason

    @property
    def label(self) -> str:
        return _LABELS[self]


_LABELS = {
    Source.proxy: "single sign-on",
    Source.link: "signed link",
    Source.cli: "CLI",
    Source.on_behalf: "on behalf",
}


@dataclass(frozen=True)
class Actor:
    """The person acting (`person`: email or plan id) and how we know it is them.

    With `on_behalf_of`, `person` is the operator and `on_behalf_of` the person whose
    action it is (a champion who acknowledged by phone, say); `reason` is required then.
    `link_nonce` is the signed link's nonce: the action records it in its own
    transaction, so the link cannot be used twice.
    """

    person: str
    source: Source
    os_user: str = ""
    on_behalf_of: str | None = None
    reason: str = ""
    link_nonce: str | None = None
    # The department visit the link was made for (`pilotscale.links.visit_key`); an
    # action refuses a link whose department has since moved on.
    visit: str | None = None

    @property
    def subject(self) -> str:
        """Whose action this is: the person acted for, or the person acting."""
        return self.on_behalf_of or self.person

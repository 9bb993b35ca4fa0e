"""Channels resolve at send time; URLs are shown only with their secrets masked."""

from __future__ import annotations

import pytest

from pilotscale.notifications.channels import ChannelUnavailable, mask, resolve
from pilotscale.plan.schema import Channel
from pilotscale.redact import scrub
from pilotscale.secrets import SecretUnreadable, load_prefect_secret

TOKEN = "SeCrEt-Token-123"


def test_an_environment_variable_is_read_when_resolving(monkeypatch: pytest.MonkeyPatch) -> None:
    channel = Channel(name="email", kind="email", url="env:PS_TEST_SMTP_URL")
    monkeypatch.setenv("PS_TEST_SMTP_URL", f"mailtos://bot:{TOKEN}@smtp.acme.example:465")

    resolved = resolve(channel)

    assert resolved.configured
    assert resolved.url == f"mailtos://bot:{TOKEN}@smtp.acme.example:465"
    assert TOKEN not in resolved.masked
    assert TOKEN not in repr(resolved)
    assert TOKEN not in str(resolved)
    assert resolved.masked == "mailtos://****:****@smtp.acme.example:465"


@pytest.mark.parametrize("value", [None, "", "   "])
def test_missing_or_empty_means_not_configured(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("PS_TEST_SMTP_URL", raising=False)
    else:
        monkeypatch.setenv("PS_TEST_SMTP_URL", value)

    resolved = resolve(Channel(name="email", kind="email", url="env:PS_TEST_SMTP_URL"))

    assert not resolved.configured
    assert resolved.masked == "not configured: environment variable PS_TEST_SMTP_URL is not set"


def test_a_secret_block_is_read_through_the_loader() -> None:
    blocks = {"hr-chat-webhook": f"mmost://chat.acme.example/{TOKEN}"}
    channel = Channel(name="hr-chat", kind="chat", url="secret:hr-chat-webhook")

    found = resolve(channel, secret_loader=blocks.get)
    missing = resolve(Channel(name="x", kind="chat", url="secret:nope"), secret_loader=blocks.get)

    assert found.url == blocks["hr-chat-webhook"]
    assert TOKEN not in found.masked
    assert missing.masked == "not configured: Prefect Secret block 'nope' is not set"


@pytest.mark.parametrize(
    "url",
    [
        f"mmost://chat.acme.example:8065/{TOKEN}",
        f"json://hooks.acme.example/services/{TOKEN}",
        f"json://user:{TOKEN}@hooks.acme.example/in",
        f"slack://T1JJ3T3L2/A1BRTD4JD/{TOKEN}",
        f"mailto://bot:{TOKEN}@smtp.acme.example",
        f"nosuchscheme://{TOKEN}@x",
    ],
)
def test_masking_hides_the_secret_part(url: str) -> None:
    masked = mask(url)

    assert TOKEN not in masked
    assert (
        scrub(f"error talking to {url}: {TOKEN} refused") == "error talking to ****: **** refused"
    )


def test_an_unreachable_prefect_api_is_unavailable_not_unconfigured() -> None:
    from prefect.settings import PREFECT_API_URL, temporary_settings

    # Nothing listens on port 9: the block store cannot be asked, so the message must
    # wait, not be diverted to the local folder as if the channel were not set up.
    with (
        temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}),
        pytest.raises(SecretUnreadable, match="cannot read Prefect Secret block 'hr-chat'"),
    ):
        load_prefect_secret("hr-chat")
    with (
        temporary_settings(updates={PREFECT_API_URL: "http://127.0.0.1:9/api"}),
        pytest.raises(ChannelUnavailable, match="cannot read Prefect Secret block 'hr-chat'"),
    ):
        resolve(Channel(name="hr-chat", kind="chat", url="secret:hr-chat"))

"""All configuration in one place: environment variables with the PILOTSCALE_ prefix."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="PILOTSCALE_", extra="ignore")

    data_dir: Path = Field(
        default=Path.home() / ".pilotscale",
        description="Where the default SQLite store and the local notification folder live.",
    )
    # A SecretStr because a PostgreSQL URL carries its password.
    database_url: SecretStr | None = Field(
        default=None,
        description="SQLAlchemy URL of the store; default is SQLite in data_dir.",
    )
    templates_dir: Path | None = Field(
        default=None, description="User templates that override the packaged ones."
    )
    outbox_dir: Path | None = Field(
        default=None,
        description="The local notification folder; default data_dir/outbox.",
    )
    # Off by default: an unset channel variable in production must fail loudly (retried,
    # then dead with an alert), not vanish into a folder nobody reads as "sent".
    local_delivery: bool = Field(
        default=False,
        description=(
            "Write messages for channels whose URL is not set to the local folder instead "
            "of failing them (the demo, a first try)."
        ),
    )
    # A template (a user's override, say) could otherwise build gigabytes from many
    # values each under the per-value cap; the dispatcher renders several at once.
    render_budget_mb: int = Field(
        default=8, ge=1, description="Memory one template render may build, in MB."
    )
    render_budget_total_mb: int = Field(
        default=64,
        ge=1,
        description=(
            "Memory all renders in flight together may build, in MB: the dispatcher "
            "renders at most this / render_budget_mb messages at once (at least one)."
        ),
    )
    sqlite_busy_timeout_ms: int = 30_000
    # The web app and the links in messages (pilotscale.links, pilotscale.web).
    base_url: str | None = Field(
        default=None,
        description=(
            "Public address of `pilotscale web` (https://pilotscale.acme.example), put in "
            "messages; without it messages carry no links."
        ),
    )
    link_secret: SecretStr | None = Field(
        default=None,
        description="Key that signs the links in messages (at least 16 characters).",
    )
    link_secret_block: str | None = Field(
        default=None,
        description="Name of a Prefect Secret block holding the link key, instead of link_secret.",
    )
    link_max_age_days: int = Field(
        default=14, ge=1, le=90, description="How long a link in a message stays valid."
    )
    trusted_proxies: list[str] = Field(
        default_factory=list,
        description=(
            "Addresses (IPs or CIDRs) of the single sign-on proxy whose X-Forwarded-Email "
            "header the web app trusts; empty: no header is trusted."
        ),
    )

    def resolved_database_url(self) -> str:
        if self.database_url is not None:
            return self.database_url.get_secret_value()
        return f"sqlite:///{self.data_dir / 'pilotscale.db'}"

    def resolved_outbox_dir(self) -> Path:
        return self.outbox_dir or self.data_dir / "outbox"


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

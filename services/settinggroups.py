"""Setting groups of the processes at the edges (the monitor, the WebSub receiver, the sinks),
and the base every group shares; services/settings.py joins them into one Settings."""

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

MAX_INTERVAL = 30 * 86400  # the longest poll interval: a month


class _Group(BaseModel):
    # A field's docstring (the string under it) is its description in docs/settings.md.
    model_config = ConfigDict(frozen=True, use_attribute_docstrings=True)


class MonitorSettings(_Group):
    """The monitor: where it listens, who may ask it."""

    monitor_host: str = "127.0.0.1"
    """Address `newswire monitor` listens on."""
    monitor_port: int = Field(default=8787, ge=0, le=65535)
    """Port of `newswire monitor`."""
    monitor_allowed_hosts: str = ""
    """Host header names the monitor answers besides `localhost`, any IP literal,
    `monitor`/`newswire-monitor` (compose) and `NEWSWIRE_MONITOR_HOST`; `*` for any."""
    monitor_token: SecretStr | None = None
    """Bearer token the monitor asks for on every path but `/livez`."""
    monitor_user: str = "newswire"
    monitor_password: SecretStr | None = None
    """Basic-auth password for the monitor (user `NEWSWIRE_MONITOR_USER`, default `newswire`)."""


class WebSubSettings(_Group):
    """WebSub push: where hubs reach the callback receiver (`newswire websub`), and its limits."""

    websub_public_url: str = ""
    """Public base URL at which hubs reach the receiver (`https://news.example.com`); the callback
    is `<this>/websub/<feed>.<token>`. Empty: no feed is subscribed, every feed is polled."""
    websub_host: str = "127.0.0.1"
    """Address `newswire websub` listens on (behind a reverse proxy that terminates TLS)."""
    websub_port: int = Field(default=8788, ge=0, le=65535)
    """Port of `newswire websub`."""
    websub_lease_seconds: int = Field(default=864000, ge=300, le=MAX_INTERVAL)
    """Lease asked of hubs (10 days); renewed before it ends."""
    websub_poll_interval: int = Field(default=3600, ge=60, le=MAX_INTERVAL)
    """A feed pushed to us is still polled, as a safety net, at least this far apart."""
    websub_max_body_bytes: int = Field(default=1024 * 1024, ge=1024, le=64 * 1024 * 1024)
    """Largest push accepted; a longer body is refused (413) unread."""
    websub_pushes_per_minute: int = Field(default=60, ge=1)
    """Pushes accepted per topic per minute; more are refused (429)."""

    @field_validator("websub_public_url")
    @classmethod
    def _public_url(cls, value: str) -> str:
        if value and (not value.startswith(("https://", "http://")) or "?" in value):
            raise ValueError("must be an http(s):// base URL without a query")
        return value.rstrip("/")


class SinkSettings(_Group):
    """Sinks: the stream delivered into other systems (`newswire sink KIND`), and search."""

    postgres_dsn: str = ""
    """Postgres for `newswire sink postgres` and `newswire search` when no DSN is given
    (`postgresql://user:password@host/db`)."""
    sink_batch: int = Field(default=500, ge=1, le=10_000)
    """Events a sink reads and writes at once (one transaction, one ack)."""

"""Settings: one validated object, read from NEWSWIRE_* variables at start and passed in."""

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_USER_AGENT = "newswire/0.1 (+https://github.com/newswire/newswire; news ingestion bot)"


class Settings(BaseSettings):
    """Everything the services need to know about their environment."""

    model_config = SettingsConfigDict(env_prefix="NEWSWIRE_", extra="ignore", frozen=True)

    redis_url: str = "redis://localhost:6379/0"
    stream: str = "newswire:articles"
    rejected_stream: str = "newswire:rejected"
    stream_maxlen: int = Field(default=1_000_000, ge=1000)
    seen_ttl_days: int = Field(default=90, ge=1)

    fetch_connect_timeout: float = Field(default=5.0, gt=0)
    fetch_read_timeout: float = Field(default=10.0, gt=0)
    fetch_deadline: float = Field(default=20.0, gt=0, le=120)
    fetch_max_bytes: int = Field(default=10 * 1024 * 1024, ge=1024)
    fetch_max_redirects: int = Field(default=5, ge=0, le=20)
    user_agent: str = DEFAULT_USER_AGENT
    # Comma list of host:port or CIDR that the SSRF guard lets through (e.g. a local test site).
    fetch_allow_hosts: str = ""

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: str) -> str:
        if not value.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError("must start with redis://, rediss:// or unix://")
        return value

    @property
    def allow_hosts(self) -> list[str]:
        """The allow-list as entries, blanks dropped."""
        return [part.strip() for part in self.fetch_allow_hosts.split(",") if part.strip()]

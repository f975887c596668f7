"""The one error root of newswire.

NewswireError
 ├── ConfigError            settings unusable: fix the environment, nothing is retried
 ├── BrokerError            Redis unreachable or failing: transient, retried by the caller
 └── FetchError             a URL could not be had
      ├── RefusedURL        bad scheme or blocked address: never connected, never retried
      ├── TransientFetch    timeout, connection reset, 429, 5xx: worth retrying later
      └── PermanentFetch    4xx, too large, not the expected content type: recorded, not retried
"""


class NewswireError(Exception):
    """Root of every error the services raise; library exceptions are wrapped in one."""


class ConfigError(NewswireError):
    """The configuration cannot work; the message says what to change."""


class BrokerError(NewswireError):
    """Redis could not be reached or refused a command."""


class FetchError(NewswireError):
    """A URL could not be fetched; `reason` is a short machine-friendly cause."""

    def __init__(self, url: str, reason: str, *, status: int | None = None) -> None:
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason
        self.status = status


class RefusedURL(FetchError):
    """The SSRF guard refused the URL before any connection was made."""


class TransientFetch(FetchError):
    """The failure may go away: retry later (Retry-After, when given, is in `retry_after`)."""

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(url, reason, status=status)
        self.retry_after = retry_after


class PermanentFetch(FetchError):
    """The failure will not go away by retrying the same request."""

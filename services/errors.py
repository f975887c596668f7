"""The one error root of newswire.

NewswireError
 ├── ConfigError            settings unusable: fix the environment, nothing is retried
 ├── BrokerError            Redis unreachable or failing: transient, retried by the caller
 ├── ArchiveError           an archived page or index line is unreadable: skipped, counted
 ├── CommandRefused         Redis up, but it refused the command (a value out of range, a
 │                          wrong type): a bug or bad input, recorded, never retried
 └── FetchError             a URL could not be had
      ├── RefusedURL        bad scheme or blocked address: never connected, never retried
      ├── TransientFetch    timeout, connection reset, 429, 5xx: worth retrying later
      └── PermanentFetch    4xx, too large, not the expected content type: recorded, not retried
"""

from enum import StrEnum


class FetchKind(StrEnum):
    """Why a fetch failed, from a fixed set chosen where the error is raised: metric labels and
    outcomes read this, never the wording of the message."""

    REFUSED = "refused"
    RATE_LIMITED = "rate_limited"
    HTTP_4XX = "http_4xx"
    HTTP_5XX = "http_5xx"
    TIMEOUT = "timeout"
    NETWORK = "network_error"
    PROXY = "proxy_error"
    TOO_LARGE = "too_large"
    NOT_HTML = "not_html"
    NOT_A_FEED = "not_a_feed"
    REDIRECTS = "too_many_redirects"
    UNDECODABLE = "undecodable"
    ROBOTS = "robots_disallowed"
    ERROR = "error"


class NewswireError(Exception):
    """Root of every error the services raise; library exceptions are wrapped in one."""


class ConfigError(NewswireError):
    """The configuration cannot work; the message says what to change."""


class BrokerError(NewswireError):
    """Redis could not be reached or refused a command."""


class ArchiveError(NewswireError):
    """An archived page or index line cannot be read (a full disk's half-written line, a
    corrupt file): skipped and counted by whoever reads the archive."""


class CommandRefused(NewswireError):
    """Redis answered, with an error about the command itself: retrying sends the same."""


class FetchError(NewswireError):
    """A URL could not be fetched; `reason` says it for people, `kind` for programs."""

    default_kind = FetchKind.ERROR

    def __init__(
        self, url: str, reason: str, *, status: int | None = None, kind: FetchKind | None = None
    ) -> None:
        super().__init__(f"{reason}: {url}")
        self.url = url
        self.reason = reason
        self.status = status
        self.kind = kind or self._kind_of(status)

    def __reduce__(self) -> tuple[object, ...]:
        # Rebuilt from its fields (pickle would call __init__ with the message alone): a
        # fetch error crosses process boundaries when pages are extracted in a pool.
        return (_rebuild, (type(self), self.url, self.reason, dict(self.__dict__)))

    def _kind_of(self, status: int | None) -> FetchKind:
        if status == 429:
            return FetchKind.RATE_LIMITED
        if status is not None and 400 <= status < 500:
            return FetchKind.HTTP_4XX
        if status is not None and status >= 500:
            return FetchKind.HTTP_5XX
        return self.default_kind


def _rebuild(cls: type[FetchError], url: str, reason: str, state: dict[str, object]) -> FetchError:
    error = cls.__new__(cls)
    NewswireError.__init__(error, f"{reason}: {url}")
    error.__dict__.update(state)
    return error


class RefusedURL(FetchError):
    """The SSRF guard refused the URL before any connection was made."""

    default_kind = FetchKind.REFUSED


class TransientFetch(FetchError):
    """The failure may go away: retry later (Retry-After, when given, is in `retry_after`)."""

    default_kind = FetchKind.NETWORK

    def __init__(
        self,
        url: str,
        reason: str,
        *,
        status: int | None = None,
        retry_after: float | None = None,
        kind: FetchKind | None = None,
    ) -> None:
        super().__init__(url, reason, status=status, kind=kind)
        self.retry_after = retry_after


class PermanentFetch(FetchError):
    """The failure will not go away by retrying the same request."""

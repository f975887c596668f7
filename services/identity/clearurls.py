"""ClearURLs rules: which query parameters of a link are tracking, from the vendored rule data."""

import json
import re
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path

# Vendored from https://github.com/ClearURLs/Rules (LGPL-3.0, see LICENSE beside it);
# `make clearurls` fetches the newest published copy.
RULES_FILE = Path(__file__).parent / "data" / "clearurls" / "data.min.json"

# Most URL patterns read `^https?:\/\/(?:[a-z0-9-]+\.)*?NAME...`: a link whose host does not
# contain NAME cannot match, which a substring test says far faster than the pattern can.
HOST_KEYWORD = re.compile(r"^\^https\?:\\/\\/\(\?:\[a-z0-9-\]\+\\\.\)\*\??([a-z0-9-]{3,})")


@dataclass(frozen=True)
class Provider:
    """One ClearURLs provider: the URLs it applies to, and the parameter names it removes."""

    name: str
    url_pattern: re.Pattern[str]
    params: re.Pattern[str]
    exceptions: tuple[tuple[str | None, re.Pattern[str]], ...]
    keyword: str | None

    def applies_to(self, url: str, host: str) -> bool:
        if self.keyword is not None and self.keyword not in host:
            return False
        return bool(self.url_pattern.match(url)) and not any(
            (keyword is None or keyword in host) and e.match(url) for keyword, e in self.exceptions
        )


@dataclass(frozen=True, eq=False)  # hashed by identity: the host cache below keys on it
class Rules:
    """The global provider (every site) and the site-specific ones."""

    global_provider: Provider
    site_providers: tuple[Provider, ...]

    def is_tracking(self, names: list[str], url: str, host: str) -> list[bool]:
        """For each parameter name of `url`, whether a rule that applies to it removes it."""
        providers = self._candidates(host)
        flags = [False] * len(names)
        for provider in providers:
            hits = [i for i, n in enumerate(names) if not flags[i] and provider.params.fullmatch(n)]
            # The URL and exception patterns are the costly part: only tested on a hit.
            if hits and provider.applies_to(url, host):
                for i in hits:
                    flags[i] = True
        return flags

    @lru_cache(maxsize=4096)  # noqa: B019 -- one Rules per process, kept for its life
    def _candidates(self, host: str) -> list[Provider]:
        """The providers whose host keyword (if any) occurs in `host`."""
        return [
            p
            for p in (self.global_provider, *self.site_providers)
            if p.keyword is None or p.keyword in host
        ]


def _keyword(pattern: str) -> str | None:
    found = HOST_KEYWORD.match(pattern)
    return found.group(1) if found else None


def _exceptions(patterns: list[str]) -> tuple[tuple[str | None, re.Pattern[str]], ...]:
    """Exceptions with a host keyword stay apart (skipped on other hosts); the rest are joined
    into one pattern, so a link is tested once rather than once per exception."""
    keyed: list[tuple[str | None, re.Pattern[str]]] = [
        (k, _compile(p)) for p in patterns if (k := _keyword(p)) is not None
    ]
    rest = [p for p in patterns if _keyword(p) is None]
    if rest:
        keyed.append((None, _compile("|".join(f"(?:{p})" for p in rest))))
    return tuple(keyed)


def _compile(pattern: str) -> re.Pattern[str]:
    # ClearURLs' patterns are JavaScript regular expressions used case-insensitively; the
    # dialect they use compiles unchanged in Python (checked for every rule by a test).
    return re.compile(pattern, re.IGNORECASE)


def _provider(name: str, data: dict[str, object]) -> Provider:
    def patterns(key: str) -> list[str]:
        value = data.get(key) or []
        return [str(p) for p in value] if isinstance(value, list) else []

    # Parameter rules match the whole name: "ref_?" removes `ref` and `ref_`, not `refresh`.
    params = [*patterns("rules"), *patterns("referralMarketing")]
    url_pattern = str(data.get("urlPattern", "^$"))
    return Provider(
        name,
        _compile(url_pattern),
        _compile("|".join(f"(?:{p})" for p in params) or "(?!)"),
        _exceptions(patterns("exceptions")),
        _keyword(url_pattern),
    )


def parse_rules(text: str) -> Rules:
    """Rules from the text of a ClearURLs `data.min.json`.

    Providers that block whole URLs (`completeProvider`) or unwrap redirectors are not used:
    newswire only needs to know which parameters never identify content.
    """
    providers = json.loads(text)["providers"]
    built = [
        _provider(name, data)
        for name, data in providers.items()
        if name != "globalRules" and not data.get("completeProvider")
    ]
    return Rules(_provider("globalRules", providers["globalRules"]), tuple(built))


@cache
def bundled_rules() -> Rules:
    """The vendored rules, parsed once per process."""
    return parse_rules(RULES_FILE.read_text(encoding="utf-8"))

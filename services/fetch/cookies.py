"""Cookies: what a server sets lives for one fetch (its redirect hops), never beyond it."""

from http.cookiejar import CookieJar
from typing import Any

import httpx


class KeepNone(CookieJar):
    """The shared client's jar, which keeps no cookie. A jar kept across fetches would send
    the session a credentialed feed's login hands out to every later fetch of every feed,
    and to other origins too: cookies ignore ports, and may name a parent domain."""

    def extract_cookies(self, response: Any, request: Any) -> None:
        return None


class HopCookies:
    """The cookies one fetch's answers set, sent on its later hops: a site that sets a cookie
    and redirects to check it is read as a browser would, and forgotten afterwards."""

    def __init__(self) -> None:
        self._jar: httpx.Cookies | None = None

    def take(self, response: httpx.Response) -> None:
        if "set-cookie" in response.headers:  # most answers set none: no jar, no cost
            if self._jar is None:
                self._jar = httpx.Cookies()
            self._jar.extract_cookies(response)

    def add_to(self, url: str, headers: dict[str, str]) -> dict[str, str]:
        """`headers` for a hop to `url`, with the cookies set earlier in this fetch that the
        cookie rules (domain, path, secure) send there, after the feed's own."""
        if not self._jar:
            return headers
        probe = httpx.Request("GET", url)
        self._jar.set_cookie_header(probe)
        value = probe.headers.get("cookie")
        if not value:
            return headers
        # The feed's own cookies may sit under any spelling of the name: one header, theirs first.
        merged = {k: v for k, v in headers.items() if k.lower() != "cookie"}
        own = "; ".join(v for k, v in headers.items() if k.lower() == "cookie" and v)
        merged["Cookie"] = f"{own}; {value}" if own else value
        return merged

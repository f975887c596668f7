"""Redaction: credentials in URLs and text replaced by `***` before anything is shown, logged
or published. The feed registry keeps the real URL (it is needed to fetch); every surface that
shows one goes through here."""

import logging
import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

MASK = "***"
# Query parameter names that carry credentials in private-feed URLs (also with a prefix such
# as `api_key` or `X-Amz-Signature`).
SECRET_NAMES = (
    "token|key|apikey|secret|password|passwd|pwd|pass|auth|authorization|"
    "sig|signature|session|sessionid|sid|credential|credentials|jwt|ticket"
)
SECRET_PARAMS = re.compile(rf"^(?:.*[_-])?(?:{SECRET_NAMES})$", re.IGNORECASE)
# scheme://user:password@ or scheme://token@ anywhere in free text.
USERINFO = re.compile(r"(?P<scheme>\b[a-zA-Z][a-zA-Z0-9+.-]*://)[^/\s@]+@")
QUERY_SECRET = re.compile(
    rf"(?P<name>[?&](?:[^=&\s#]*[_-])?(?:{SECRET_NAMES}))=[^&\s#'\"]*", re.IGNORECASE
)


def redact_url(url: str) -> str:
    """`url` with its userinfo and the values of credential-like query parameters masked."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return redact_text(url)
    netloc = parts.netloc
    if "@" in netloc:
        netloc = f"{MASK}@{netloc.rsplit('@', 1)[1]}"
    query = parts.query
    if query:
        pairs = parse_qsl(query, keep_blank_values=True)
        if any(SECRET_PARAMS.match(name) for name, _ in pairs):
            query = urlencode(
                [(n, MASK if SECRET_PARAMS.match(n) else v) for n, v in pairs], safe="*"
            )
    return urlunsplit(parts._replace(netloc=netloc, query=query))


def redact_text(text: str) -> str:
    """Every URL credential in free text (log lines, error messages) masked."""
    if "@" not in text and "=" not in text:
        return text
    text = USERINFO.sub(lambda m: f"{m['scheme']}{MASK}@", text)
    return QUERY_SECRET.sub(lambda m: f"{m['name']}={MASK}", text)


def without_userinfo(url: str) -> str:
    """`url` without `user:password@`: links from feeds are strangers' words, and credentials
    in them must neither be sent nor published."""
    parts = urlsplit(url)
    if "@" not in parts.netloc:
        return url
    return urlunsplit(parts._replace(netloc=parts.netloc.rsplit("@", 1)[1]))


class RedactingFilter(logging.Filter):
    """Masks URL credentials in every record passing a handler (httpx's request lines,
    Celery's task results, our own messages)."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = redact_text(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            # Formatted here so that the formatter uses the redacted text.
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact_text(record.exc_text)
        return True


def redact_logs() -> None:
    """Install the filter on every handler of the root logger (call after configuring it)."""
    for handler in logging.getLogger().handlers:
        if not any(isinstance(f, RedactingFilter) for f in handler.filters):
            handler.addFilter(RedactingFilter())

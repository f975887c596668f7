"""WARC files written by the tests (one gzip member per record, as CC-NEWS has them)."""

import gzip
import uuid
from pathlib import Path


def response(
    uri: str, body: bytes, status: int = 200, content_type: str = "text/html; charset=utf-8"
) -> bytes:
    reason = {200: "OK", 404: "Not Found"}.get(status, "Status")
    http = (
        f"HTTP/1.1 {status} {reason}\r\nContent-Type: {content_type}\r\n"
        f"Content-Length: {len(body)}\r\n\r\n"
    ).encode() + body
    return record("response", uri, http, "application/http; msgtype=response")


def request(uri: str) -> bytes:
    http = f"GET / HTTP/1.1\r\nHost: {uri.split('/')[2]}\r\n\r\n".encode()
    return record("request", uri, http, "application/http; msgtype=request")


def record(kind: str, uri: str, block: bytes, content_type: str) -> bytes:
    head = (
        f"WARC/1.0\r\nWARC-Type: {kind}\r\nWARC-Target-URI: {uri}\r\n"
        f"WARC-Date: 2026-11-27T10:00:00Z\r\nWARC-Record-ID: <urn:uuid:{uuid.uuid4()}>\r\n"
        f"Content-Type: {content_type}\r\nContent-Length: {len(block)}\r\n\r\n"
    ).encode()
    return gzip.compress(head + block + b"\r\n\r\n")


def write_warc(path: Path, records: list[bytes]) -> Path:
    path.write_bytes(b"".join(records))
    return path

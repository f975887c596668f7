"""CLI arguments: each command's options as a typed dataclass, bound from argparse in one place.

argparse hands back a Namespace that mypy cannot see into; each handler takes its own frozen
dataclass instead, so a misspelt or mistyped option is a type error, and a test checks that
every parser's options and its dataclass's fields are the same names.
"""

import argparse
import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

T = TypeVar("T")


def bind(parser: argparse.ArgumentParser, cls: type[T], handler: Callable[[T], int]) -> None:
    """`parser`'s command runs `handler` with its options as a `cls`."""

    def run(namespace: argparse.Namespace) -> int:
        values: dict[str, Any] = vars(namespace)
        return handler(cls(**{f.name: values[f.name] for f in dataclasses.fields(cls)}))  # type: ignore[arg-type]

    parser.set_defaults(handler=run, args_type=cls)


@dataclass(frozen=True)
class IngestArgs:
    feeds: list[str]
    json: bool
    processes: int | None


@dataclass(frozen=True)
class WorkerArgs:
    celery_args: list[str]  # everything after the command, for `celery worker`


@dataclass(frozen=True)
class BeatArgs:
    pass


@dataclass(frozen=True)
class UpArgs:
    feeds: str | None
    celery_args: list[str]


@dataclass(frozen=True)
class DemoArgs:
    timeout: float


@dataclass(frozen=True)
class TailArgs:
    json: bool
    count: int | None
    from_start: bool
    start: str | None
    follow: bool
    group: str | None
    consumer: str
    claim_idle: float


@dataclass(frozen=True)
class StatusArgs:
    json: bool


@dataclass(frozen=True)
class PingArgs:
    worker: str | None
    scheduler: bool
    monitor: str | None


@dataclass(frozen=True)
class MonitorArgs:
    host: str | None
    port: int | None


@dataclass(frozen=True)
class AclArgs:
    apply: bool
    role: list[str]
    group: str
    json: bool


@dataclass(frozen=True)
class WebSubArgs:
    host: str | None
    port: int | None


@dataclass(frozen=True)
class DeadArgs:
    json: bool
    count: int
    requeue: list[str]
    requeue_all: bool


@dataclass(frozen=True)
class StoryArgs:
    story: str
    json: bool


@dataclass(frozen=True)
class FeedsAddArgs:
    urls: list[str]
    interval: int | None
    learn: bool
    header: list[str] | None
    auth: str | None
    cookie: list[str] | None
    credential_origin: list[str] | None
    user_agent: str | None
    proxy: str | None
    feed_text: bool
    language: str | None
    tag: list[str] | None
    robots_txt: bool | None


@dataclass(frozen=True)
class FeedsRemoveArgs:
    urls: list[str]


@dataclass(frozen=True)
class FeedsListArgs:
    json: bool


@dataclass(frozen=True)
class FeedsImportArgs:
    file: str
    interval: int | None


@dataclass(frozen=True)
class FeedsExportArgs:
    pass


@dataclass(frozen=True)
class FeedsDiscoverArgs:
    url: str
    add: bool
    interval: int | None
    json: bool


@dataclass(frozen=True)
class ReplayArgs:
    feed: str | None
    since: str | None
    id: str | None
    json: bool


@dataclass(frozen=True)
class BackfillArgs:
    files: list[str]
    json: bool


@dataclass(frozen=True)
class SinkArgs:
    kind: str
    target: str | None
    group: str | None
    name: str | None
    batch: int | None
    until_idle: bool
    secret: str | None
    allow_private: bool
    concurrency: int
    stream: str
    subject: str


@dataclass(frozen=True)
class SearchArgs:
    query: str
    dsn: str | None
    since: str | None
    lang: str | None
    source: str | None
    limit: int
    json: bool

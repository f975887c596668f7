"""CLI output and exit codes shared by the `newswire` subcommands."""

import argparse
import io
import re
import sys
import time
from collections.abc import Callable, Sequence
from typing import TextIO

import redis
from newswire.services.broker import open_redis
from newswire.services.settings import Settings

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_CONFIG = 2
EXIT_BROKER = 3
EXIT_NOT_FOUND = 4
EXIT_FETCH = 5
EXIT_INTERNAL = 70  # EX_SOFTWARE: a bug; the message says to rerun with -v for the traceback
EXIT_INTERRUPTED = 130

# C0 controls but tab and newline, DEL, C1 controls, and the bidirectional overrides: what
# lets a feed's text clear the screen, retitle the window, hide a link (OSC 8) or reorder
# what is shown. Shown escaped (`\x1b`), never sent to the terminal.
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def printable(text: str) -> str:
    """`text` with every control character written as an escape."""
    return CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}" if ord(m.group()) < 256
                       else f"\\u{ord(m.group()):04x}", text)  # fmt: skip


class Printable(io.TextIOBase):
    """A text stream that escapes control characters on the way to `raw`: every CLI surface
    (tables, tail, discover, dead letters, errors) goes through one of these."""

    def __init__(self, raw: TextIO) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(printable(text))
        return len(text)

    def flush(self) -> None:
        self.raw.flush()

    def isatty(self) -> bool:
        return self.raw.isatty()

    @property
    def encoding(self) -> str:  # type: ignore[override]
        return self.raw.encoding

    def fileno(self) -> int:
        return self.raw.fileno()


def raw_stream(stream: TextIO) -> TextIO:
    """The terminal behind a Printable (the progress bar draws with \r and ESC[K itself)."""
    return stream.raw if isinstance(stream, Printable) else stream


def positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{value} is not at least 1")
    return value


def print_table(rows: Sequence[Sequence[str]], indent: int = 0) -> None:
    """Aligned columns, the header row first."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for row in rows:
        line = "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        print(" " * indent + line)


REDRAW_EVERY = 0.1  # seconds between redraws of a progress bar


def progress_bar(label: str, quiet: bool = False) -> Callable[[int, int], None] | None:
    """A live progress bar on a terminal's stderr (`label [#####-----] 45/100 12/s`);
    None (nothing printed) when stderr is not a terminal or `quiet`."""
    if quiet or not sys.stderr.isatty():
        return None
    started = time.monotonic()
    drawn = [0.0]

    def show(done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - drawn[0] < REDRAW_EVERY:
            return  # thousands of steps a second would cost more to draw than to do
        drawn[0] = now
        width = 30
        filled = width * done // total if total else width
        rate = done / max(time.monotonic() - started, 1e-6)
        bar = "#" * filled + "-" * (width - filled)
        end = "\r\033[K" if done >= total else ""
        print(f"\r  {printable(label)} [{bar}] {done}/{total} {rate:.0f}/s{end}", end="",
              file=raw_stream(sys.stderr), flush=True)  # fmt: skip

    return show


_opened: list[redis.Redis] = []


def connect(settings: Settings) -> redis.Redis:
    """A Redis client for the running command; `main` closes it when the command ends,
    however it ends."""
    client = open_redis(settings)
    _opened.append(client)
    return client


def close_clients() -> None:
    while _opened:
        _opened.pop().close()

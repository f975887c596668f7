"""CLI output and exit codes shared by the `newswire` subcommands."""

import sys
import time
from collections.abc import Callable, Sequence

EXIT_OK = 0
EXIT_PARTIAL = 1
EXIT_CONFIG = 2
EXIT_BROKER = 3
EXIT_NOT_FOUND = 4
EXIT_FETCH = 5


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
        print(f"\r  {label} [{bar}] {done}/{total} {rate:.0f}/s{end}", end="", file=sys.stderr,
              flush=True)  # fmt: skip

    return show

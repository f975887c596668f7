"""CLI output and exit codes shared by the `newswire` subcommands."""

from collections.abc import Sequence

EXIT_OK = 0
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

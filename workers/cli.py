"""The `newswire` command's entry: a worker first starts again under its allocator, if it must."""

import sys

from newswire.workers import allocator


def main() -> int:
    # Before the commands load (a second or more of imports): a worker that starts again
    # under jemalloc pays only this module's start twice.
    if sys.argv[1:2] == ["worker"]:
        allocator.start_under_preferred()
    from newswire.workers.cli_main import main as run_command  # noqa: PLC0415

    return run_command()


if __name__ == "__main__":
    sys.exit(main())

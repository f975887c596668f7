"""A PostgreSQL server of the tests' own, on a free port in a temporary directory: `initdb` and
`pg_ctl` run as an unprivileged user when the tests run as root (Postgres refuses root)."""

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from pathlib import Path

from newswire.workers.stack import free_port

NOBODY = 65534


def binary(name: str) -> str:
    found = shutil.which(name) or next(iter(sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"),
                                                   reverse=True)), None)  # fmt: skip
    assert found, f"{name} is required: `apt-get install postgresql` (Debian's server package)"
    return found


def unprivileged() -> Callable[[], None] | None:
    """Drop to `nobody` in the child when running as root."""
    if os.geteuid() != 0:
        return None

    def drop() -> None:
        os.setgid(NOBODY)
        os.setuid(NOBODY)

    return drop


class PostgresServer:
    """`start`, `dsn(db)`, `stop`; the data directory is removed on stop."""

    def __init__(self) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="newswire-pg-"))
        self.data = self.root / "data"
        self.port = free_port()

    def _run(self, *args: str) -> None:
        subprocess.run(args, check=True, capture_output=True, timeout=120,
                       preexec_fn=unprivileged(), cwd=self.root)  # fmt: skip

    def start(self) -> None:
        if os.geteuid() == 0:
            os.chown(self.root, NOBODY, NOBODY)
        if not self.data.exists():
            self._run(binary("initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust",
                      "--encoding=UTF8", "--locale=C", "--no-sync")  # fmt: skip
        options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 "
                   "-c fsync=off -c synchronous_commit=off -c full_page_writes=off")  # fmt: skip
        self._run(binary("pg_ctl"), "-D", str(self.data), "-o", options, "-l",
                  str(self.root / "log"), "-w", "-t", "60", "start")  # fmt: skip

    def stop(self, remove: bool = False) -> None:
        subprocess.run([binary("pg_ctl"), "-D", str(self.data), "-m", "immediate", "-w", "stop"],
                       check=False, capture_output=True, timeout=60,
                       preexec_fn=unprivileged())  # fmt: skip
        if remove:
            shutil.rmtree(self.root, ignore_errors=True)

    def dsn(self, db: str = "postgres") -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/{db}"

    def log(self) -> str:
        path = self.root / "log"
        return path.read_text(errors="replace") if path.exists() else ""

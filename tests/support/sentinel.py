"""A Redis Sentinel deployment on loopback for the tests: a master, one replica, three sentinels."""

import subprocess
import time
from pathlib import Path

import redis
from newswire.workers.stack import RedisProcess, free_port, redis_binary

MASTER_NAME = "newswire"


def replica_of(port: int) -> list[str]:
    return ["--replicaof", "127.0.0.1", str(port)]


def wait_ping(port: int, timeout: float = 20.0) -> None:
    client = redis.Redis(port=port, socket_connect_timeout=1)
    deadline = time.monotonic() + timeout
    try:
        while True:
            try:
                client.ping()
                return
            except redis.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
    finally:
        client.close()


class SentinelDeployment:
    """Master + replica + three sentinels (quorum 2) that fail over within a few seconds."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.master = RedisProcess(root / "master")
        self.replica: RedisProcess | None = None
        self.sentinels: list[tuple[int, subprocess.Popen[bytes]]] = []

    @property
    def sentinel_list(self) -> str:
        return ",".join(f"127.0.0.1:{port}" for port, _ in self.sentinels)

    def start(self) -> None:
        self.master.start()
        self.replica = RedisProcess(self.root / "replica", extra_args=replica_of(self.master.port))
        self.replica.start()
        for n in range(3):
            port = free_port()
            conf = self.root / f"sentinel{n}.conf"
            conf.write_text(
                f"port {port}\nbind 127.0.0.1\ndir {self.root}\n"
                f"sentinel monitor {MASTER_NAME} 127.0.0.1 {self.master.port} 2\n"
                f"sentinel down-after-milliseconds {MASTER_NAME} 1000\n"
                f"sentinel failover-timeout {MASTER_NAME} 5000\n"
                f"sentinel parallel-syncs {MASTER_NAME} 1\n"
                f"logfile {self.root / f'sentinel{n}.log'}\n"
            )
            proc = subprocess.Popen(
                [redis_binary(), str(conf), "--sentinel"], start_new_session=True
            )
            self.sentinels.append((port, proc))
            wait_ping(port)
        # The replica is in sync before anything is written.
        replica = redis.Redis(port=self.replica.port)
        deadline = time.monotonic() + 20
        while replica.info("replication").get("master_link_status") != "up":
            if time.monotonic() > deadline:
                raise AssertionError("replica did not sync")
            time.sleep(0.1)
        replica.close()

    def master_port(self) -> int:
        """The port the sentinels name as master now."""
        sentinel = redis.Redis(port=self.sentinels[0][0])
        try:
            _host, port = sentinel.execute_command(
                "SENTINEL", "get-master-addr-by-name", MASTER_NAME
            )
            return int(port)
        finally:
            sentinel.close()

    def stop(self) -> None:
        for _port, proc in self.sentinels:
            proc.terminate()
        for _port, proc in self.sentinels:
            proc.wait(10)
        for node in (self.master, self.replica):
            if node is not None:
                node.stop()

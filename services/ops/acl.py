"""ACL: one Redis user per role, each allowed the keys and commands of its work and no more."""

from dataclasses import dataclass

from newswire.services import keys
from newswire.services.settings import Settings

# What every client needs to connect and say who it is; nothing dangerous (no CLIENT KILL).
CONNECT = ("+@connection", "-@dangerous", "+ping")
# Everything a part that runs the pipeline uses (Lua included), without the commands that
# reconfigure, flush or scan the server (KEYS, FLUSHALL, CONFIG, DEBUG, ACL, SHUTDOWN...).
WORKING = ("+@all", "-@dangerous", "-@admin")
# A stream consumer: its group's reads, claims and acks, the group's creation, its errors.
CONSUMING = (
    "+xread", "+xreadgroup", "+xack", "+xautoclaim", "+xclaim", "+xpending", "+xinfo|stream",
    "+xinfo|groups", "+xinfo|consumers", "+xgroup|create", "+xgroup|createconsumer", "+xrange",
    "+xrevrange", "+xlen", "+hget", "+hset", "+hdel", "+multi", "+exec", "+discard",
)  # fmt: skip
ROLES = ("worker", "scheduler", "monitor", "consumer", "sink", "admin")


@dataclass(frozen=True)
class Role:
    name: str
    user: str
    purpose: str
    rules: tuple[str, ...]

    def setuser(self, password: str) -> list[str]:
        """The ACL SETUSER arguments that (re)define this user whole, with `password`."""
        return [self.user, "reset", "on", f">{password}", *self.rules]


def _keys(families: dict[str, tuple[str, ...]], names: list[str], mode: str = "") -> list[str]:
    """ACL key rules for the families named: `~` read-write, `%R~` read-only."""
    return [f"{mode}~{pattern}" for name in names for pattern in families[name]]


def roles(settings: Settings, group: str = "*") -> list[Role]:
    """Every role's user and rules, its keys from services/keys.py. `group` narrows the
    consumer's error bookkeeping to one consumer group."""
    families = keys.patterns(settings.key_prefix, settings.stream, settings.rejected_stream)
    everything = list(families)
    prefix = settings.key_prefix
    worker = ["registry", "workers", "pending", "websub", "fetching", "sites", "metrics",
              "backfill", "articles", "identity", "rejected", "queues"]  # fmt: skip
    scheduler = ["registry", "scheduler", "pending", "websub", "queues", "metrics"]
    stream, dead = settings.stream, keys.dead_letters(settings.stream)
    return [
        Role("worker", f"{prefix}-worker", "Celery workers: poll, fetch, extract, publish",
             (*_keys(families, worker), "&*", *WORKING)),
        Role("scheduler", f"{prefix}-scheduler", "`newswire beat`: claims due feeds, enqueues",
             # The workers' heartbeats, read only: a worker that stops consuming triggers the
             # look for tasks it lost (workers/reconcile.py).
             (*_keys(families, scheduler), *_keys(families, ["workers"], "%R"),
              "resetchannels", *WORKING, "+info")),
        Role("monitor", f"{prefix}-monitor", "`newswire monitor` and `status`: reads only",
             (*_keys(families, everything, "%R"), "resetchannels", "-@all", "+@read",
              "+@transaction", *CONNECT)),
        Role("consumer", f"{prefix}-consumer", "a subscriber: reads the stream in its group",
             (f"~{stream}", f"~{keys.delivery_errors(stream, group)}", "resetchannels", "-@all",
              *CONSUMING, *CONNECT, f"(~{dead} +xadd)")),
        Role("sink", f"{prefix}-sink", "`newswire sink KIND`: a consumer that counts its events",
             (f"~{stream}", f"~{keys.delivery_errors(stream, '*')}", "resetchannels", "-@all",
              *CONSUMING, *CONNECT, f"(~{dead} +xadd)",
              f"(~{keys.metrics(prefix)} +hincrby)")),
        Role("admin", f"{prefix}-admin", "the feeds, dead and replay commands of operators",
             (*_keys(families, everything), "&*", *WORKING)),
    ]  # fmt: skip

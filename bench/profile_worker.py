"""Where a worker's time goes: one worker as compose runs it (prefork, concurrency 2, task
events, INFO logs) on copies of the corpus, sampled by py-spy across its pool processes.
`python -m bench.profile_worker [--copies N] [--seconds S]` prints the hottest frames and the
share of time per stage (needs `pip install py-spy`)."""

import argparse
import collections
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import redis
from newswire.services.polling.registry import Registry
from newswire.workers.site_server import SiteServer
from newswire.workers.stack import RedisProcess

from bench.corpus import corpus_root, load_pages
from bench.throughput import stop_processes, write_copies

# Frames that name a stage: the first one found walking a stack from its leaf up wins.
STAGES = (
    ("fetch (httpx)", ("services/fetch/client.py", "httpx/", "httpcore/")),
    ("publish + identity (Redis)", ("services/delivery/", "services/identity/")),
    ("normalize", ("services/extract/normalize.py", "services/extract/reconcile.py")),
    # story.py's extract_page: decoding, and the freeing of the page's trees when extract returns
    (
        "extract (decode, trafilatura, metadata, cleanup)",
        ("services/extract/", "services/fetch/charset.py", "extract_page ("),
    ),
    ("robots / politeness", ("services/fetch/robots.py", "services/fetch/politeness.py")),
    ("pending ledger / metrics", ("services/polling/pending.py", "services/metrics.py")),
    ("logging", ("logging/__init__.py",)),
    ("celery/kombu (prefork, events, messaging)", ("celery/", "kombu/", "billiard/")),
    ("redis-py", ("redis/",)),
    ("ingest (batch, decisions)", ("services/ingest/", "services/polling/")),
)


def stage_of(stack: str) -> str:
    frames = stack.split(";")
    for frame in reversed(frames):
        for name, markers in STAGES:
            if any(m in frame for m in markers):
                return name
    return "other"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--copies", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=25)
    parser.add_argument("--pool", default="prefork")
    parser.add_argument("--keep", type=Path, help="also write py-spy's raw stacks to this file")
    args = parser.parse_args()
    spy = shutil.which("py-spy") or str(Path(sys.executable).parent / "py-spy")
    pages = load_pages(corpus_root())
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        os.environ["NEWSWIRE_DATA_DIR"] = str(tmp / "data")
        redis_proc = RedisProcess(tmp / "redis")
        redis_proc.start()
        site = SiteServer(tmp / "site")
        feeds = write_copies(pages, tmp / "site", site.base, args.copies)
        env = {
            **os.environ,
            "NEWSWIRE_REDIS_URL": redis_proc.url,
            "NEWSWIRE_FETCH_ALLOW_HOSTS": site.host_port,
            "NEWSWIRE_HOST_RATE": "100000",
            "NEWSWIRE_HOST_BURST": "100000",
        }
        cmd = [sys.executable, "-m", "newswire.workers.cli"]
        log = (tmp / "worker.log").open("wb")
        worker = subprocess.Popen([*cmd, "worker", "-n", "prof@%h", "--concurrency", "2", "--pool", args.pool],
                                  env=env, stdout=log, stderr=log, start_new_session=True)  # fmt: skip
        beat = subprocess.Popen([*cmd, "beat"], env=env, stdout=log, stderr=log,
                                start_new_session=True)  # fmt: skip
        client = redis.Redis.from_url(redis_proc.url)
        try:
            time.sleep(3)
            for url in feeds:
                Registry(client).add(url, 3600)
            while client.xlen("newswire:articles") < 50:
                time.sleep(0.1)
            before = client.xlen("newswire:articles")
            client.config_resetstat()
            raw = tmp / "profile.txt"
            subprocess.run([spy, "record", "--pid", str(worker.pid), "--subprocesses", "--rate", "200",
                            "--duration", str(int(args.seconds)), "--format", "raw", "-o", str(raw),
                            "--nonblocking", "--gil"], check=True, capture_output=True)  # fmt: skip
            done = client.xlen("newswire:articles") - before
            if args.keep:
                shutil.copyfile(raw, args.keep)
            commands = {
                k.removeprefix("cmdstat_"): v["calls"]
                for k, v in client.info("commandstats").items()
            }
        finally:
            stop_processes([worker, beat])
            site.close()
            redis_proc.stop()
        stages: collections.Counter[str] = collections.Counter()
        leaves: collections.Counter[str] = collections.Counter()
        ours: collections.Counter[str] = collections.Counter()
        total = 0
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if not count.isdigit():
                continue  # a frame name with a newline in it: rare, skipped
            n = int(count)
            total += n
            stages[stage_of(stack)] += n
            leaves[stack.split(";")[-1]] += n
            for frame in set(stack.split(";")):
                if any(
                    m in frame
                    for m in (
                        "newswire/",
                        "trafilatura/core.py",
                        "celery/app/trace",
                        "kombu/transport",
                        "celery/worker/",
                        "kombu/messaging",
                    )
                ):
                    ours[frame.split(" (")[0]] += n
        print(f"{done} articles in {args.seconds:.0f} s = {done / args.seconds:.1f}/s; "
              f"{total} samples (incl. idle waits)")  # fmt: skip
        for name, n in stages.most_common():
            print(f"  {100 * n / total:5.1f}%  {name}")
        calls = sum(commands.values())
        top = ", ".join(f"{k} {v / done:.1f}" for k, v in
                        sorted(commands.items(), key=lambda kv: -kv[1])[:14])  # fmt: skip
        print(f"Redis commands per article: {calls / done:.1f} ({top})")
        print("newswire functions, inclusive:")
        for frame, n in ours.most_common(45):
            print(f"  {100 * n / total:5.1f}%  {frame[:110]}")
        others: collections.Counter[str] = collections.Counter()
        for line in raw.read_text().splitlines():
            stack, _, count = line.rpartition(" ")
            if count.isdigit() and stage_of(stack) == "other":
                others[";".join(f.split(" (")[0] for f in stack.split(";")[-3:])] += int(count)
        print("other, by the last three frames:")
        for frame, n in others.most_common(12):
            print(f"  {100 * n / total:5.1f}%  {frame[:150]}")
        print("hottest frames:")
        for frame, n in leaves.most_common(15):
            print(f"  {100 * n / total:5.1f}%  {frame[:150]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

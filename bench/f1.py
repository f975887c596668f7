"""The shared benchmark's body F1 alone, end to end through `newswire ingest` and for bare
trafilatura (12 s): `python -m bench.f1`. `make bench` measures it with everything else."""

import os
import tempfile
from pathlib import Path

from newswire.workers.stack import RedisProcess

from bench.corpus import corpus_root, load_pages
from bench.extraction import run

if __name__ == "__main__":
    with tempfile.TemporaryDirectory() as tmp:
        os.environ["NEWSWIRE_DATA_DIR"] = f"{tmp}/data"
        redis_proc = RedisProcess(Path(tmp) / "redis")
        redis_proc.start()
        try:
            q = run(load_pages(corpus_root()), redis_proc.url)
            print(
                f"newswire F1 {q.pipeline.f1:.4f} (P {q.pipeline.precision:.4f}, "
                f"R {q.pipeline.recall:.4f}); bare trafilatura {q.bare.f1:.4f}"
            )
        finally:
            redis_proc.stop()

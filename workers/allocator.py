"""Allocator: a worker re-executes itself under jemalloc (or mimalloc) where one is installed."""

import os
import sys
import sysconfig
from collections.abc import Mapping
from pathlib import Path

from newswire.services.errors import ConfigError

# Read here, before Settings loads (services/settings.py documents and validates it): the
# allocator is chosen by the dynamic loader when the process starts, so a worker that wants
# another one starts again under it, before it has loaded anything.
ENV = "NEWSWIRE_WORKER_ALLOCATOR"
DEFAULT = "auto"
# What each choice preloads, in the order `auto` tries them. libxml2 (lxml) calls malloc and
# free for every node of every page: glibc's malloc and free were 14% of a worker's CPU
# (perf), and under either extraction takes ~10% less CPU, bare trafilatura's too
# (docs/benchmarks.md). jemalloc comes first although mimalloc was a little faster: a prefork
# worker forks new pool processes while its threads run, and jemalloc takes its locks around
# a fork (pthread_atfork), as Redis relies on for every snapshot; mimalloc 2 registers no
# such handler, so a child forked while another thread holds one of its locks could hang.
LIBRARIES = {"jemalloc": "libjemalloc.so.2", "mimalloc": "libmimalloc.so.2"}
PACKAGES = {"jemalloc": "libjemalloc2", "mimalloc": "libmimalloc2.0"}  # Debian's and Ubuntu's
KNOWN = ("libjemalloc", "libmimalloc", "libtcmalloc")  # one of these preloaded: leave it be
# Marks the environment of the re-executed process, so that a library the loader could not
# preload after all (it says why on stderr) costs one more start, never a loop.
TRIED = "NEWSWIRE_ALLOCATOR_TRIED"


def search_dirs() -> list[Path]:
    """Where Debian, Ubuntu, Fedora and hand-built installs keep shared libraries: this
    interpreter's own multiarch directory first, any other after (a Python built without
    one, as some images' are, still finds Debian's packages)."""
    multiarch = sysconfig.get_config_var("MULTIARCH") or ""
    own = [Path(f"/usr/lib/{multiarch}")] if multiarch else []
    others = sorted(Path("/usr/lib").glob("*-linux-gnu*"))
    common = map(Path, ("/usr/lib64", "/usr/lib", "/usr/local/lib"))
    return list(dict.fromkeys([*own, *others, *common]))


def library(choice: str, dirs: list[Path] | None = None) -> Path | None:
    """The library file that `choice` (auto, jemalloc, mimalloc, system, or a file's path)
    names, when it exists; None for the system's own allocator or none found."""
    if choice.startswith("/"):
        return Path(choice) if Path(choice).is_file() else None
    names = list(LIBRARIES.values()) if choice == "auto" else [LIBRARIES.get(choice, "")]
    for name in filter(None, names):
        for directory in dirs if dirs is not None else search_dirs():
            if (directory / name).is_file():
                return directory / name
    return None


def preloaded_env(env: Mapping[str, str], dirs: list[Path] | None = None) -> dict[str, str] | None:
    """The environment to start again with, or None when nothing is to change: the system's
    allocator chosen, none found, one already preloaded, or tried once already."""
    choice = env.get(ENV, DEFAULT).strip() or DEFAULT
    preload = env.get("LD_PRELOAD", "")
    if choice == "system" or TRIED in env or any(name in preload for name in KNOWN):
        return None
    path = library(choice, dirs)
    if path is None:
        return None
    return {**env, "LD_PRELOAD": " ".join(filter(None, (str(path), preload))), TRIED: "1"}


def start_under_preferred() -> None:
    """Re-execute this very command line under the preferred allocator (the process keeps its
    pid, so supervisors see nothing); returns only when there is nothing to change."""
    env = preloaded_env(os.environ)
    if env is not None and sys.platform == "linux":
        sys.stdout.flush()
        # The same interpreter and arguments, no shell between: nothing is reinterpreted.
        os.execve(sys.executable, [sys.executable, *sys.orig_argv[1:]], env)  # noqa: S606


def active() -> str:
    """The allocator this process runs under: jemalloc, mimalloc, tcmalloc or system."""
    try:
        maps = Path("/proc/self/maps").read_text()
    except OSError:
        return "system"
    for name in KNOWN:
        if name in maps:
            return name.removeprefix("lib")
    return "system"


def check(choice: str) -> str:
    """The allocator this worker runs under; a ConfigError when `choice` names one (or a file)
    that it does not run under: installed nowhere here, or refused by the loader."""
    running = active()
    if choice in ("auto", "system") or running == choice:
        return running
    if (
        choice.startswith("/")
        and str(Path(choice).resolve()) in Path("/proc/self/maps").read_text()
    ):
        return running if running != "system" else Path(choice).name
    found = library(choice)
    if running != "system":
        why = f"it runs under {running}, preloaded by LD_PRELOAD already"
    elif found is not None:
        why = f"the loader did not preload {found} (its reason is printed above)"
    elif choice in PACKAGES:
        why = f"{LIBRARIES[choice]} is not installed (Debian: apt install {PACKAGES[choice]})"
    else:
        why = f"{choice} is no file"
    raise ConfigError(f"NEWSWIRE_WORKER_ALLOCATOR={choice}, but {why}; or set it to auto or system")

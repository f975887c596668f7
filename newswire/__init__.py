"""newswire: news feeds in, one clean Article per story out on a Redis Stream."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("newswire")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0+unknown"

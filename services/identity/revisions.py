"""Revisions: when a story already published is fetched again to look for a new version."""

from dataclasses import dataclass

from newswire.schemas.feed import FeedEntry
from newswire.services.settings import IdentitySettings, default


@dataclass(frozen=True)
class Known:
    """What Redis knows of a story a link belongs to. `version` 0: the link is known but the
    story has no state (rejected, or published before story state existed): never updated."""

    story_id: str
    version: int = 0
    content_hash: str = ""
    cluster_id: str = ""
    updated: float = 0.0  # the feed entry's `updated` time last recorded (Unix seconds)
    first_published: float = 0.0


@dataclass(frozen=True)
class RevisionPolicy:
    """A known story is re-fetched when its feed entry's `updated` time is newer than the one
    recorded, the story was first published less than `window_hours` ago and has fewer than
    `max_versions` versions. A poll re-fetches at most `per_poll` stories of its feed."""

    window_hours: float = default("update_window_hours")
    max_versions: int = default("max_versions")
    per_poll: int = default("updates_per_poll")

    @classmethod
    def from_settings(cls, settings: IdentitySettings) -> "RevisionPolicy":
        return cls(settings.update_window_hours, settings.max_versions, settings.updates_per_poll)

    def wants_refetch(self, entry: FeedEntry, known: Known, now: float) -> bool:
        if known.version == 0 or entry.updated_at is None:
            return False  # no story state to compare with, or no sign of a change
        if entry.updated_at.timestamp() <= known.updated:
            return False
        if known.version >= self.max_versions:
            return False
        return now - known.first_published <= self.window_hours * 3600

"""RejectedLink: a feed link newswire refused to fetch, and why."""

from pydantic import AwareDatetime, BaseModel, ConfigDict


class RejectedLink(BaseModel):
    """Published to the rejected-links stream instead of an Article."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = 1
    link: str
    feed_url: str
    guid: str | None = None
    title: str = ""
    reason: str
    rejected_at: AwareDatetime

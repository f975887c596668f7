"""Article v1: the one message newswire publishes per story."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[1] = 1

Extraction = Literal["full", "feed_summary"]


class Article(BaseModel):
    """One story, normalized. Consumers read it from the stream entry's `data` field."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: Literal[1] = SCHEMA_VERSION
    id: str = Field(
        description="Stable story id: sha256 hex of the canonical URL (first 32 chars)."
    )
    url: str | None = Field(description="The link as the feed gave it and we fetched it.")
    canonical_url: str | None = Field(
        description="Same-site rel=canonical or the link, without tracking parameters/fragment."
    )
    feed_url: str = Field(description="The feed this story was first seen in.")
    guid: str | None = Field(default=None, description="The feed entry's id/guid, if any.")
    title: str = ""
    body: str = Field(default="", description="Plain text, paragraphs separated by blank lines.")
    summary: str = Field(default="", description="The feed's own summary, as plain text.")
    authors: list[str] = Field(default_factory=list)
    published_at: AwareDatetime | None = Field(default=None, description="UTC, ISO 8601.")
    updated_at: AwareDatetime | None = Field(default=None, description="UTC, ISO 8601.")
    fetched_at: AwareDatetime = Field(description="When newswire processed the story (UTC).")
    language: str | None = Field(default=None, description="ISO 639-1 code, e.g. 'en'.")
    source: str | None = Field(default=None, description="Site name, e.g. 'The Guardian'.")
    tags: list[str] = Field(default_factory=list)
    image: str | None = Field(default=None, description="Lead image URL.")
    word_count: int = Field(default=0, ge=0)
    content_hash: str = Field(description="sha256 hex of the normalized body (or summary).")
    extraction: Extraction = Field(
        description="'full' when the body came from the page, 'feed_summary' when it fell back."
    )
    extraction_error: str | None = Field(
        default=None, description="Why extraction fell back to the feed's text."
    )

"""Article v2 (and the frozen v1 it extends): the one message newswire publishes per story."""

import json
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

SCHEMA_VERSION: Literal[2] = 2

Extraction = Literal["full", "feed_summary"]


class StoryFields(BaseModel):
    """The fields every schema version of Article has (version 1's, less `schema_version`)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

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


# Article as schema version 1 had it, frozen: its JSON Schema forbids unknown fields, so it
# can never grow. The publisher writes this shape when NEWSWIRE_ARTICLE_SCHEMA_VERSION=1 (see
# the README's compatibility policy); its schema file stays byte for byte what it was.
class ArticleV1(StoryFields):
    """One story, normalized. Consumers read it from the stream entry's `data` field."""

    model_config = ConfigDict(title="Article")

    schema_version: Literal[1] = 1


class Article(StoryFields):
    """One story, normalized (schema version 2). Consumers read it from the stream entry's
    `data` field.

    Version 2 adds the story's identity fields. Its JSON Schema allows unknown fields: within
    version 2 fields are only ever added (optional, with a default), never renamed, retyped
    or removed, so a consumer generated from this schema keeps working as fields are added.
    """

    model_config = ConfigDict(frozen=True, extra="ignore")

    schema_version: Literal[2] = SCHEMA_VERSION
    id: str = Field(
        description="Stable story id: sha256 hex of the link's identity key (first 32 chars); "
        "the same for every version of the story."
    )
    version: int = Field(
        default=1, ge=1, description="1 when first published, then 2, 3, ... per real change."
    )
    previous_content_hash: str | None = Field(
        default=None, description="The content_hash of the version this one replaces."
    )
    cluster_id: str | None = Field(
        default=None,
        description="Near-duplicate cluster: the id of the first story seen with (nearly) "
        "this body, e.g. one wire story printed by several sites. Equal to `id` when this "
        "story started its cluster.",
    )
    aliases: list[str] = Field(
        default_factory=list,
        description="Other links of this story known when it was published (cleaned).",
    )
    agencies: list[str] = Field(
        default_factory=list,
        description="News agencies the page credits (AP, Reuters, dpa...): sources of the "
        "story, not its authors.",
    )

    truncated: list[str] = Field(
        default_factory=list,
        description="Each field cut (or dropped) to fit the stream's entry size limits, and "
        "how much: empty when nothing was cut.",
    )

    def to_v1(self) -> ArticleV1:
        """This article in the version-1 shape: the fields version 1 had, nothing else."""
        return ArticleV1.model_validate(
            self.model_dump(include=set(ArticleV1.model_fields) - {"schema_version"})
        )


def parse_article(raw: str | bytes) -> Article:
    """An Article from a stream entry's `data`, in either schema version: a version-1 payload
    is read as version 2 with the identity fields at their defaults."""
    payload = json.loads(raw)
    if isinstance(payload, dict) and payload.get("schema_version") == 1:
        v1 = ArticleV1.model_validate(payload)
        return Article.model_validate(
            {**v1.model_dump(exclude={"schema_version"}), "cluster_id": v1.id}
        )
    return Article.model_validate(payload)

"""Writes the JSON Schema files for consumers in other languages: `python -m newswire.schemas`."""

import json
import sys
from pathlib import Path

from newswire.schemas.article import Article, ArticleV1
from newswire.schemas.rejected import RejectedLink
from newswire.schemas.status import FeedsPage, Status
from pydantic import BaseModel

SCHEMA_DIR = Path(__file__).parent
MODELS: dict[str, type[BaseModel]] = {
    "article.v1.schema.json": ArticleV1,
    "article.v2.schema.json": Article,
    "rejected-link.v1.schema.json": RejectedLink,
    "status.v1.schema.json": Status,
    "feeds-page.v1.schema.json": FeedsPage,
}


def render(model: type[BaseModel]) -> str:
    """The committed text of one model's schema (serialization mode: what consumers read)."""
    schema = model.model_json_schema(mode="serialization")
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return json.dumps(schema, indent=2, sort_keys=True) + "\n"


def main() -> int:
    for name, model in MODELS.items():
        (SCHEMA_DIR / name).write_text(render(model), encoding="utf-8")
        print(f"wrote schemas/{name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())

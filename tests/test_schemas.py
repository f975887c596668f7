"""The committed JSON Schema files must match the models: consumers in other languages use them."""

from pathlib import Path

import pytest
from newswire.schemas.__main__ import MODELS, SCHEMA_DIR, render


@pytest.mark.parametrize("name", sorted(MODELS))
def test_committed_schema_is_current(name: str) -> None:
    committed = (SCHEMA_DIR / name).read_text(encoding="utf-8")
    assert committed == render(MODELS[name]), f"schemas/{name} is stale: run `make schemas`"


def test_schemas_import_only_pydantic() -> None:
    for path in Path(SCHEMA_DIR).glob("*.py"):
        for line in path.read_text().splitlines():
            if line.startswith(("import ", "from ")):
                name = line.split()[1]
                module = "newswire.schemas" if name.startswith("newswire.schemas") else name
                assert (
                    module.split(".")[0]
                    in {
                        "pydantic",
                        "typing",
                        "json",
                        "sys",
                        "pathlib",
                        "datetime",
                        "re",
                        "urllib",
                        "__future__",
                    }
                    or module == "newswire.schemas"
                ), (path, line)

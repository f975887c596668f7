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


def test_settings_reference_is_current() -> None:
    """docs/settings.md is generated from the Settings classes: regenerate it with
    `make schemas` after changing a setting."""
    from newswire.services.settingsdoc import reference  # noqa: PLC0415

    path = Path(__file__).resolve().parents[1] / "docs" / "settings.md"
    assert path.read_text(encoding="utf-8") == reference(), "run `make schemas`"


def test_settings_are_grouped_and_each_default_written_once() -> None:
    from newswire.services.identity.revisions import RevisionPolicy  # noqa: PLC0415
    from newswire.services.settings import GROUPS, Settings  # noqa: PLC0415
    from newswire.services.sources.kinds import SourceOptions  # noqa: PLC0415

    grouped = [name for group in GROUPS for name in group.model_fields]
    assert sorted(grouped) == sorted(Settings.model_fields)  # every setting in one group
    assert len(grouped) == len(set(grouped))
    s = Settings()
    assert RevisionPolicy() == RevisionPolicy.from_settings(s)
    assert SourceOptions() == SourceOptions.from_settings(s)
    assert "fault_injection" not in Settings.model_fields  # faults come through a test seam

"""Settings reference: docs/settings.md written from the Settings classes, by concern."""

import sys

from newswire.services.settings import GROUPS


def reference() -> str:
    """docs/settings.md: every setting by concern, its variable, default and meaning."""
    out = [
        "# Settings reference",
        "",
        "Generated from `services/settings.py` by `make schemas` "
        "(`python -m newswire.services.settingsdoc`); a test fails when this file is stale. "
        "Every setting is an environment variable `NEWSWIRE_<NAME>`.",
    ]
    for group in GROUPS:
        out += ["", f"## {group.__name__.removesuffix('Settings')}", "", group.__doc__ or "", ""]
        out += ["| Variable | Default | Meaning |", "| --- | --- | --- |"]
        for name, info in group.model_fields.items():
            if info.default_factory is not None:
                shown = f"`{info.default_factory.__name__}()`"
            elif info.default is None or info.default == "":
                shown = "(none)"
            else:
                shown = f"`{info.default}`"
            meaning = " ".join((info.description or "").split()).replace("|", "\\|")
            out.append(f"| `NEWSWIRE_{name.upper()}` | {shown} | {meaning} |")
    return "\n".join(out) + "\n"


if __name__ == "__main__":
    sys.stdout.write(reference())

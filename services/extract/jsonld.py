"""JSON-LD: the schema.org objects a page declares about itself, read leniently and in bounds."""

import json

from lxml.html import HtmlElement

# Four times deeper than any publisher's metadata (the 679 JSON-LD scripts of the two corpora
# nest 8 levels at most, 3 in the median): JSON nested further is junk, or a page built to
# exhaust the reader's recursion.
MAX_DEPTH = 32


def jsonld_objects(tree: HtmlElement) -> list[dict[str, object]]:
    """Every JSON-LD object on the page, @graph members flattened; junk is skipped."""
    return objects(list(tree.iter("script")))


def objects(scripts: list[HtmlElement]) -> list[dict[str, object]]:
    """The JSON-LD objects of these <script> elements (others are passed over), in document
    order, the members of a @graph or a mainEntity included."""
    found: list[dict[str, object]] = []
    for element in scripts:
        script = element.text
        if element.get("type") != "application/ld+json" or not script:
            continue
        data = _parse(script)
        stack = list(reversed(data)) if isinstance(data, list) else [data]
        while stack:
            item = stack.pop()  # document order: the stack holds what is left, reversed
            if isinstance(item, dict):
                found.append(item)
                for key in ("@graph", "mainEntity"):  # an article nested in a WebPage
                    nested = item.get(key)
                    if isinstance(nested, list):
                        stack.extend(reversed(nested))
                    elif isinstance(nested, dict):
                        stack.append(nested)
    return found


def _parse(text: str) -> object | None:
    """The script's JSON, also when wrapped in CDATA or comments; None for junk: not JSON, or
    nested deeper than MAX_DEPTH (the readers of authors and images walk it recursively, and
    json itself gives up past Python's recursion limit with a RecursionError)."""
    try:
        data: object = json.loads(text)
    except RecursionError:
        return None
    except ValueError:
        data = _wrapped_json(text)
    return data if _within(data, MAX_DEPTH) else None


def _wrapped_json(text: str) -> object | None:
    """JSON-LD inside a CDATA section or behind comments ("//<![CDATA[ {...} //]]>"): the
    outermost object or array in the text, or None."""
    text = text.replace("<![CDATA[", "").replace("]]>", "")
    starts = [i for i in (text.find("{"), text.find("[")) if i >= 0]
    end = max(text.rfind("}"), text.rfind("]"))
    if not starts or end < min(starts):
        return None
    try:
        value: object = json.loads(text[min(starts) : end + 1])
    except (ValueError, RecursionError):
        return None
    return value


def _within(value: object, limit: int) -> bool:
    """Whether no list or object in `value` lies more than `limit` levels deep (walked with a
    stack of its own, so the check cannot itself run out of recursion)."""
    stack = [(value, 1)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            if depth > limit:
                return False
            stack.extend((v, depth + 1) for v in item if isinstance(v, dict | list))
    return True

"""Cleanup: remove what extraction leaves around a story: the headline and page furniture."""

import re

TOKEN = re.compile(r"\w+")

# Page furniture found on news sites everywhere. LABELS must be the whole line; PHRASES open a
# short line (sharing, sign-up, print and error messages, copyright). A sentence of the story
# that merely starts with such a word ("Related parties must...") is kept.
LABELS = re.compile(
    r"""^\W*(?:
        advertisement | sponsored(?:\s+content)? | comments? | related(?:\s+(?:articles?|stories|content|coverage|posts))? |
        tags? | share(?:\s+this(?:\s+(?:article|story))?)? | (?:print|email|save)(?:\s+this)?(?:\s+(?:article|story))? |
        order\s+reprints? | text\s+size | by | (?:read|see|watch)\s+(?:more|also|next) | most\s+(?:read|popular|viewed) |
        recommended(?:\s+for\s+you)? | don[’']?t\s+miss | you\s+(?:may|might)\s+also\s+like | trending(?:\s+now)? |
        newsletter | sorry | thank\s+you | more\s+(?:from|stories|on\s+this)
    )\W*$""",
    re.IGNORECASE | re.VERBOSE,
)
PHRASES = re.compile(
    r"""^\W*(?:
        share\s+(?:this|on)\s | like\s+this\s+story | tell\s+us\s+what\s+you\s+think | filed\s+under\b | tags?\s*: |
        sign\s+up\s+(?:for|to|now)\b | subscribe\s+(?:to|now|for|today)\b | thanks?\s+(?:you\s+)?for\s+(?:signing\s+up|subscribing) |
        there\s+was\s+an\s+error\b | an\s+error\s+(?:has\s+)?occurred\b | copyright\b | ©\s* | all\s+rights\s+reserved\b |
        this\s+copy\s+is\s+for\s+your\s+personal\b | updated\s+(?:at\s+)?\d | keep\s+an\s+eye\s+on\s+your\s+inbox\b |
        write\s+to\s+\S+(?:\s+\S+)?\s+at\s+\S+@ | also\s+on\s+\S+\.\w+\b | see\s+more\s+photos\b
    )""",
    re.IGNORECASE | re.VERBOSE,
)
MAX_BOILERPLATE_WORDS = 25
# "Click here" calls to action and news-agency credit lines.
CALL_TO_ACTION = re.compile(r"\bclick(?:ing)?\s+here\b", re.I)
CREDITS = re.compile(
    r"^\W*\(?(?:additional\s+)?(?:reporting|writing|editing|compiled)\s+by\b", re.I
)
# A "Related"/"Don't miss" header opens a block of short teaser lines that ends at prose.
SECTION_HEADER = re.compile(
    r"^\W*(?:don[’']?t\s+miss|related(?:\s+(?:articles|stories|content))?|more\s+(?:from|stories)|"
    r"you\s+(?:may|might)\s+also\s+like|most\s+(?:read|popular|viewed)|recommended(?:\s+for\s+you)?|"
    r"trending|read\s+(?:more|next)|see\s+also)\W*$",
    re.I,
)
TEASER_WORDS = 15
SENTENCE_END = re.compile(r"[.!?…][\"'”’)]*$")
HEADLINE_LOOKAHEAD = 3  # the headline may follow a kicker or category line
KICKER_WORDS = 8
# "Read more: <headline>" and "Related: <headline>" pointers are boilerplate at any length.
POINTER = re.compile(
    r"^\W*(?:read\s+more|related|see\s+(?:more|also)|also\s+read|more\s*:)\s*[:|\]–-]", re.I
)


def _norm(text: str) -> str:
    return " ".join(TOKEN.findall(text.lower()))


def is_headline(line: str, title: str) -> bool:
    """The line is the page's headline (maybe with a site suffix), not a paragraph starting so."""
    line_n, title_n = _norm(line), _norm(title)
    if not line_n or not title_n:
        return False
    if line_n == title_n or title_n.startswith(line_n + " "):
        return len(line_n) >= 0.5 * len(title_n)
    return line_n.startswith(title_n) and len(line_n) <= 1.2 * len(title_n) + 10


def is_boilerplate(line: str) -> bool:
    if POINTER.match(line) or (CREDITS.match(line) and len(line.split()) <= 30):
        return True
    words = len(line.split())
    if CALL_TO_ACTION.search(line) and words <= TEASER_WORDS:
        return True
    return LABELS.match(line) is not None or (
        words <= MAX_BOILERPLATE_WORDS and PHRASES.match(line) is not None
    )


def drop_headline(lines: list[str], titles: list[str]) -> list[str]:
    """Drop the headline and any short kicker lines above it, if it is among the first lines."""
    for i, line in enumerate(lines[:HEADLINE_LOOKAHEAD]):
        if any(is_headline(line, t) for t in titles):
            if all(len(kicker.split()) <= KICKER_WORDS for kicker in lines[:i]):
                return lines[i + 1 :]
            break
    return lines


def is_teaser(line: str) -> bool:
    """A linked headline in a list: a list item, or a short line that is not a sentence."""
    return line.startswith("- ") or (
        len(line.split()) <= TEASER_WORDS and not SENTENCE_END.search(line)
    )


def drop_teaser_sections(lines: list[str]) -> list[str]:
    """Drop a "Related"/"Don't miss" header and the teasers under it, up to the next prose."""
    kept, skipping = [], False
    for line in lines:
        if SECTION_HEADER.match(line):
            skipping = True
        elif not (skipping and is_teaser(line)):
            skipping = False
            kept.append(line)
    return kept


def clean_body(text: str, titles: list[str]) -> str:
    """The body without its headline, teaser blocks and boilerplate lines."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    lines = drop_teaser_sections(drop_headline(lines, titles))
    return "\n".join(line for line in lines if not is_boilerplate(line))

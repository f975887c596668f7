"""People: the names in a credit's text, split and kept as written, and what is no person."""

import html
import re
import unicodedata

from newswire.services.extract import labels
from newswire.services.extract.sitenames import letters

# Where one credit's names part: "A, B and C", "A / B", "A | B", "A & B", "A und B", and "A as
# told to B" (a first-person piece credits its teller and its writer).
SEPARATORS = re.compile(r"\s*(?:[/;,|&]|\s(?:and|und)\s|\bas\s+told\s+to\b)\s*", re.IGNORECASE)
LABEL = re.compile(rf"^(?:{labels.LEAD}\s+)?(?:{labels.BY}|from)\s*:?\s+", re.IGNORECASE)
# A label of any language before a colon ("Текст: Name", "Autorin: Name"): names hold no colon.
COLON_LABEL = re.compile(r"^[^\W\d_]+(?:\s+[^\W\d_]+)?\s*[:\uff1a]\s*")
TAGS = re.compile(r"<[^>]*>")
HANDLE = re.compile(r"\s*\(?@\w+\)?")  # "Jane Doe @janedoe": the handle is not the name
# A nickname in double quotes or brackets ("Jane "JJ" Doe"). Not in apostrophes: they are
# letters of names ("D'Arcy O'Brien").
NICKNAME = re.compile(r"\s*[\"“”«»(\[{][^\"“”«»)\]}]*[\"“”«»)\]}]")
# Lowercase prepositions (a case-sensitive test: "In" may be a name) and spaced dashes start
# what is no longer the name: "Jane Doe in Paris", "for The Guardian", "Jane Doe - Reuters".
AFTER_NAME = re.compile(
    r"(?:^|\s+)(?:am|on|for|at|in|to|from|of|via|with|[-\u2013\u2014])\s+.*$"
)  # also a part that is only what follows a name ("on 3 March")
DIGITS_ON = re.compile(r"\s*\d.*$")  # a date or a count after the names
EMOJI = re.compile("[\U0001f000-\U0001faff\u2600-\u27bf\ufe0f]")
INITIAL_END = re.compile(r"(?:\b\w|\bJr|\bSr)\.$")  # "Jane D.", "John Roe Jr.": the dot is kept
MAX_WORDLESS = 50  # a longer run without a space or hyphen is no name

# Markup, CSS or script that a template put where a name belongs: "{{ author.name }}",
# "byline__author-name", "author-name", "authorName", "css-1q2w3e", "[object Object]",
# "undefined". A user name ("kei_eno", "jdoe") is kept: the site credits that account.
MARKUP = re.compile(
    r"[{}<>=\[\]$#\\]|__|^[a-z]+[A-Z][A-Za-z]*$|^(?:undefined|null|none|nan|true|false|object)$"
)
TOKEN = re.compile(r"^[a-z0-9]+(?:[-_.][a-z0-9]+)+$")  # lowercase words joined without spaces
TOKEN_SIGNS = re.compile(r"\d|author|byline|name|avatar|icon|meta|label|wrap|container")
# The accounts a CMS installs, credited when nobody set a byline: no person.
CMS_DEFAULTS = {"admin", "administrator", "webmaster", "webadmin", "siteadmin", "superuser"}
# Lower-case words a name may hold ("Ludwig van Beethoven", "Osama bin Laden", "al-Assad",
# "d'Souza"); two other lower-case words beside capitalised ones make a phrase ("Syrian
# defense ministries"). One may be a name typed carelessly ("Jane doe").
PARTICLES = {
    "van", "von", "der", "den", "de", "del", "della", "dei", "di", "da", "das", "do", "dos",
    "du", "la", "le", "les", "lo", "bin", "binti", "bint", "ibn", "al", "el", "ul", "ter",
    "ten", "te", "zu", "y", "e", "i", "af", "av", "vom", "zum", "zur", "st",
}  # fmt: skip
APOSTROPHE_OR_HYPHEN = re.compile("['\u2019-]")
FULL_STOP = re.compile(r"(?<=[^\W\d_]{3})\.\s+(?=\S)")  # after a word of three letters or more
TITLES = {"prof", "gen", "col", "capt", "sgt", "rev", "hon", "gov", "sen", "rep", "mrs", "mme"}


def as_written(text: str) -> str:
    """A credit with its HTML entities decoded and its letters composed (NFC): "Jos&eacute;"
    and "Jose" plus a combining accent are both "José", which is how the name is written."""
    if "&" in text:
        text = html.unescape(text)
    return unicodedata.normalize("NFC", text)


def is_markup(name: str) -> bool:
    """Whether a credited "name" is a token of markup, CSS or script rather than a person."""
    name = name.strip()
    return bool(MARKUP.search(name) or (TOKEN.match(name) and TOKEN_SIGNS.search(name)))


def is_no_person(name: str) -> bool:
    """Whether a credit, cleaned of labels and roles, is shaped like no person's name: a
    CMS's default account, a phrase with an article ("The Water Coolest") or with lower-case
    words beside capitalised ones ("Syrian defense ministries"). A name in one case
    throughout ("danah boyd", "rmb") is kept as written."""
    words = name.split()
    if name.casefold() in CMS_DEFAULTS or (len(words) >= 2 and words[0] == "The"):
        return True
    lower = [w for w in words if w[0].islower() and not is_particle(w)]
    return len(lower) >= 2 and any(w[0].isupper() for w in words)


def is_particle(word: str) -> bool:
    """Whether a lower-case word is one a name may hold ("van", "bin", "al-Assad", "d'Souza")."""
    head = APOSTROPHE_OR_HYPHEN.split(word.casefold(), maxsplit=1)
    return head[0] in PARTICLES or (len(head) > 1 and len(head[0]) <= 2)


def first_sentence(credit: str) -> str:
    """A credit up to a full stop after a full name ("Finian Cunningham. Sputnik
    International"): what follows is about the writer. An initial's dot ("Troy L. Smith"), a
    title's ("Prof. Jane Doe", "Gen. Mark Roe") or a stop after one word does not end it."""
    for stop in FULL_STOP.finditer(credit):
        before = credit[: stop.start()].split()
        if len(before) >= 2 and before[-1].casefold() not in TITLES:
            return credit[: stop.start()]
    return credit


def same_person(handle: str, names: list[str]) -> bool:
    """Whether a one-word credit is the account name of a person credited in full beside
    it: "kevin-r" or "jdoe" beside "Kevin Rebong" or "Jane Doe"."""
    if " " in handle or handle != handle.lower():
        return False
    key = letters(handle)
    for name in names:
        words = name.split()
        if len(words) < 2 or len(key) < 3:
            continue
        full = letters(name)
        if full.startswith(key) or key == letters(words[0])[:1] + letters(words[-1]):
            return True
    return False


def _end(name: str) -> str:
    """The name without what trails it that is neither a letter, a digit, a combining mark
    nor a dot (an initial's)."""
    end = len(name)
    while end and not (
        name[end - 1].isalnum()
        or name[end - 1] == "."
        or unicodedata.category(name[end - 1]).startswith("M")
    ):
        end -= 1
    return name[:end]


def split_credit(text: str) -> list[str]:
    """The names in a byline's text, as written: accents, apostrophes, hyphens and initials
    kept ("D'Arcy O'Brien", "John F. Kennedy"), labels, handles, emoji, nicknames and what
    follows a name ("in Paris", a date) taken off. Role phrases are left to the caller."""
    text = TAGS.sub(" ", as_written(text))
    names: list[str] = []
    for part in SEPARATORS.split(text):
        name = " ".join(EMOJI.sub("", HANDLE.sub("", part)).split())
        name = COLON_LABEL.sub("", LABEL.sub("", NICKNAME.sub("", name)))
        name = _end(DIGITS_ON.sub("", AFTER_NAME.sub("", name))).strip()
        if name.endswith(".") and not INITIAL_END.search(name):
            name = name[:-1]  # a sentence's full stop
        if not name or (len(name) >= MAX_WORDLESS and " " not in name and "-" not in name):
            continue
        if name not in names:
            names.append(name)
    # the fullest form of each name only ("Jane" beside "Jane Doe" is the same person)
    return [n for n in names if not any(n != m and n in m for m in names)]

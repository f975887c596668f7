"""Site names: whether a credit or a title's trailing part names the publication itself."""

import re
import unicodedata
from urllib.parse import urlsplit

HOST_NOISE = {"www", "m", "amp", "mobile", "news", "com", "co", "org", "net", "de", "uk", "at"}


# Everything but letters and digits: \W is exactly "not str.isalnum()" plus the underscore
# (checked over every code point), and a substitution in C is several times faster than a
# test per character in Python.
NOT_ALNUM = re.compile(r"[\W_]+")
WORD = re.compile(r"[^\W_]+")
ARTICLES = {"the", "der", "die", "das", "le", "la", "les", "el", "il", "de", "het"}


def letters(text: str) -> str:
    """The text's letters and digits, case-folded: what two spellings of a name share."""
    return NOT_ALNUM.sub("", unicodedata.normalize("NFKC", text).casefold())


def host_names(url: str | None) -> list[str]:
    host = urlsplit(url or "").hostname or ""
    return [label for label in host.split(".") if label and label not in HOST_NOISE]


def initials(name: str) -> set[str]:
    """A name's initials, case-folded, with and without a leading article: "The Portugal
    News" gives "tpn" and "pn", "Frankfurter Allgemeine Zeitung" "faz"."""
    words = WORD.findall(name)
    found = {"".join(w[0] for w in words).casefold()}
    if len(words) > 2 and words[0].casefold() in ARTICLES:
        found.add("".join(w[0] for w in words[1:]).casefold())
    return {i for i in found if len(i) >= 2}


def names_the_site(part: str, site: str | None, url: str | None) -> bool:
    """Whether a credit or a title's trailing part is the publication's name, or its
    initials in capitals ("TPN" on The Portugal News)."""
    own = letters(part)
    if not own:
        return False
    if site and part.strip().isupper() and len(own) <= 5 and own in initials(site):
        return True
    site_letters = letters(site or "")
    if site_letters and (
        site_letters == own
        or (len(own) > 3 and own in site_letters)
        or (len(site_letters) >= 3 and own.startswith(site_letters))  # "CBC News"
    ):
        return True
    for label in (letters(name) for name in host_names(url)):
        if len(label) >= 2 and (label == own or (len(label) >= 3 and own.startswith(label))):
            return True
        if len(label) > 3 and label in own:
            return True
        if len(own) > 3 and own in label:
            return True
    return False


def names_a_site(part: str, sites: list[str | None], url: str | None) -> bool:
    """Whether a credit names the publication by any of its names (or, for None, its host)."""
    return any(names_the_site(part, site, url) for site in sites)

"""Title habit: which of its pages' headline candidates a site uses, learned from its feeds.

Sites differ in which candidate carries the headline they publish: one puts it in og:title and
a longer SEO line in <h1>, another the reverse, a third keeps it only in its JSON-LD. The
consensus rule (`pick_title`) is right on most pages, but not on such a site's, page after
page. A feed entry's own title is the site's headline as written for readers, so each page
fetched for a titled entry says which candidates agree with it. Counted per site, that says
which candidate to take where a source gives no title (sitemaps, WARC records, discovery).

A candidate is named by its source and its place among that source's claims: "og:title",
"jsonld", "h1", "h1#1" (the page's second <h1>). PICK counts the consensus rule alike, so a
learned source is used only where the site's own evidence says it beats the rule.
"""

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass, field

from newswire.services.extract.reconcile import clean_title, cleaned_claims, vote
from newswire.services.extract.sitenames import letters

PICK = "pick"  # the consensus rule, scored beside the candidates
SEEN = "seen"  # pages compared
# A learned source must agree with the site's feed titles this often (and more often than the
# consensus rule): a site that mixes its habits keeps the rule.
MIN_SHARE = 0.75


def labelled(claims: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """Each title claim named by its source and its place among that source's claims."""
    counts: Counter[str] = Counter()
    named = []
    for source, text in claims:
        n = counts[source]
        counts[source] += 1
        named.append((source if n == 0 else f"{source}#{n}", text))
    return named


def agreeing(
    feed_title: str, claims: list[tuple[str, str]], site: str | None, url: str | None
) -> list[str]:
    """The names of the page's candidates that say what the feed's title says (both cleaned
    alike, compared by their letters), and PICK when the consensus rule does."""
    want = letters(clean_title(feed_title, site, url))
    if not want or not claims:
        return []
    cleaned = cleaned_claims(claims, site, url)
    found = [
        name
        for (name, _raw), (_tag, _text, key) in zip(labelled(claims), cleaned, strict=True)
        if key == want
    ]
    if letters(vote(cleaned)) == want:
        found.append(PICK)
    return found


@dataclass(frozen=True)
class TitleHabit:
    """A site's counts: pages compared, and how many of them each candidate agreed on."""

    seen: int = 0
    agreed: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_counts(cls, counts: Mapping[str, int]) -> "TitleHabit":
        agreed = {name: n for name, n in counts.items() if name != SEEN and n > 0}
        return cls(counts.get(SEEN, 0), agreed)

    @property
    def source(self) -> str | None:
        """The candidate this site's headlines come from, where its evidence says so: it
        agreed on at least MIN_SHARE of the pages and on more of them than the consensus
        rule. None: the rule is as good here, or nothing is known."""
        ranked = sorted(
            ((n, name) for name, n in self.agreed.items() if name != PICK),
            key=lambda pair: (-pair[0], pair[1]),
        )
        if not ranked or not self.seen:
            return None
        n, name = ranked[0]
        if n > self.agreed.get(PICK, 0) and n >= MIN_SHARE * self.seen:
            return name
        return None

    def title(self, claims: list[tuple[str, str]], site: str | None, url: str | None) -> str:
        """The page's headline from the learned source, cleaned; "" when there is no learned
        source or the page lacks that candidate (the caller falls back to the rule)."""
        wanted = self.source
        if wanted is None:
            return ""
        for name, text in labelled(claims):
            if name == wanted:
                return clean_title(text, site, url)
        return ""

    def describe(self) -> dict[str, object]:
        """For people and scripts (`newswire feeds list --json`)."""
        return {"source": self.source, "pages": self.seen, "agreed": dict(self.agreed)}

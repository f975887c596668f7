"""Story identity of links: real-world URL pairs that are (or are not) the same story."""

import json
import re

import pytest
from newswire.services.identity.clearurls import RULES_FILE, bundled_rules, parse_rules
from newswire.services.identity.urls import clean_url, identity_key, story_id

# (a, b, same story?) — decorated links as aggregators, newsletters and social sites write them.
PAIRS: list[tuple[str, str, bool]] = [
    # Attribution parameters: ClearURLs' global rules
    ("https://www.example.com/world/story-1?utm_source=rss&utm_medium=feed", "https://www.example.com/world/story-1", True),
    ("https://news.example.org/a/b?fbclid=IwAR0abc", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?gclid=Cj0KCQ", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?ref=rss", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?ref_=nav", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?referrer=twitter", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?cmpid=org=ngo::mc=social", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?mc_cid=abc&mc_eid=def", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?_ga=2.1234&_gl=1*abc", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?mtm_campaign=x&mtm_source=y", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?msclkid=1&yclid=2", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?itm_source=home&itm_medium=x&itm_campaign=y", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?__twitter_impression=true", "https://news.example.org/a/b", True),
    ("https://news.example.org/a/b?spm=a2c.1", "https://news.example.org/a/b", True),
    # News parameters ClearURLs leaves to site rules: newswire's own short list
    ("https://www.lemonde.fr/international/article/2024/05/01/x_123.html?xtor=RSS-3208", "https://www.lemonde.fr/international/article/2024/05/01/x_123.html", True),
    ("https://www.example.fr/politique/x.html?xtor=AL-32280270", "https://www.example.fr/politique/x.html", True),
    ("https://www.bbc.com/news/world-europe-1?at_medium=RSS&at_campaign=KARANGA", "https://www.bbc.com/news/world-europe-1", True),
    ("https://www.example.com/news/1?at_custom1=link&at_custom4=x", "https://www.example.com/news/1", True),
    ("https://www.example.com/news/1?source=rss", "https://www.example.com/news/1", True),
    ("https://www.example.com/news/1?src=rss", "https://www.example.com/news/1", True),
    ("https://www.theguardian.com/world/2024/may/01/x?CMP=share_btn_tw", "https://www.theguardian.com/world/2024/may/01/x", True),
    ("https://www.nytimes.com/2024/05/01/world/x.html?smid=tw-share", "https://www.nytimes.com/2024/05/01/world/x.html", True),
    ("https://www.msn.com/en-us/news/world/x/ar-AA1?ocid=BingNewsSearch", "https://www.msn.com/en-us/news/world/x/ar-AA1", True),
    ("https://www.example.com/n/1?ito=792&ns_mchannel=rss&ns_campaign=x", "https://www.example.com/n/1", True),
    ("https://www.example.com/n/1?guccounter=1&guce_referrer=aHR0c", "https://www.example.com/n/1", True),
    ("https://www.example.com/n/1?pk_campaign=x&pk_kwd=y", "https://www.example.com/n/1", True),
    # AMP renderings
    ("https://www.example.com/news/story-1/amp", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/news/story-1/amp/", "https://www.example.com/news/story-1/", True),
    ("https://www.example.com/amp/news/story-1", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/news/story-1?outputType=amp", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/news/story-1?amp=1", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/news/story-1?amp", "https://www.example.com/news/story-1", True),
    ("https://amp.example.com/news/story-1", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/news/story-1.amp.html", "https://www.example.com/news/story-1.html", True),
    ("https://www.example.com/news/story-1.amp", "https://www.example.com/news/story-1", True),
    # Mobile and www hosts, scheme
    ("https://m.example.com/news/story-1", "https://www.example.com/news/story-1", True),
    ("https://mobile.example.com/news/story-1", "https://example.com/news/story-1", True),
    ("https://www2.example.com/news/story-1", "https://www.example.com/news/story-1", True),
    ("http://www.example.com/news/story-1", "https://www.example.com/news/story-1", True),
    ("https://WWW.Example.COM/news/story-1", "https://www.example.com/news/story-1", True),
    ("https://www.example.com:443/news/story-1", "https://www.example.com/news/story-1", True),
    # Path spelling
    ("https://www.example.com/news/story-1/", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/news/index.html", "https://www.example.com/news/", True),
    ("https://www.example.com/news/story-1/index.htm", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/news/index.php", "https://www.example.com/news", True),
    ("https://www.example.com/%7Ejane/story", "https://www.example.com/~jane/story", True),
    ("https://www.example.com/caf%c3%a9/story", "https://www.example.com/caf%C3%A9/story", True),
    ("https://www.example.com/café/story", "https://www.example.com/caf%C3%A9/story", True),
    ("https://www.example.com/news/story-1#comments", "https://www.example.com/news/story-1", True),
    ("https://www.example.com/s?b=2&a=1", "https://www.example.com/s?a=1&b=2", True),
    # Parameters that identify content stay
    ("https://www.example.com/story.php?id=101", "https://www.example.com/story.php?id=102", False),
    ("https://www.example.com/story.php?id=101&utm_source=x", "https://www.example.com/story.php?id=102", False),
    ("https://www.example.com/?p=4711", "https://www.example.com/?p=4712", False),
    ("https://www.example.com/news.asp?story=9", "https://www.example.com/news.asp?story=10", False),
    ("https://www.example.com/article.aspx?articleid=5&page=2", "https://www.example.com/article.aspx?articleid=5", False),
    ("https://www.example.com/view?article_id=77", "https://www.example.com/view", False),
    ("https://www.example.com/news/story-1", "https://www.example.com/news/story-2", False),
    ("https://www.example.com/News/Story", "https://www.example.com/news/story", False),
    # Different sites, or a different section of one host name
    ("https://www.example.com/news/story-1", "https://www.example.org/news/story-1", False),
    ("https://sport.example.com/story-1", "https://www.example.com/story-1", False),
    ("https://www.example.com/amplifier-review", "https://www.example.com/review", False),
    ("https://www.example.com/news/story-1?refresh=1", "https://www.example.com/news/story-1", False),
]  # fmt: skip


@pytest.mark.parametrize(("a", "b", "same"), PAIRS)
def test_url_pairs(a: str, b: str, same: bool) -> None:
    assert (story_id(a) == story_id(b)) is same, (identity_key(a), identity_key(b))


def test_the_table_is_large_enough() -> None:
    assert len(PAIRS) >= 50
    assert sum(not same for _a, _b, same in PAIRS) >= 10


@pytest.mark.parametrize(
    ("url", "clean"),
    [
        # clean_url stays a fetchable address: host, path spelling and AMP are left alone.
        ("https://m.example.com/a/amp/?ref=rss&id=3#x", "https://m.example.com/a/amp/?id=3"),
        ("https://www.example.com/%7Ejane/caf%c3%a9", "https://www.example.com/~jane/caf%C3%A9"),
        ("https://www.example.com/s?q=a%20b&page=2", "https://www.example.com/s?q=a%20b&page=2"),
        ("https://www.google.com/search?q=x&ved=abc&ei=1", "https://www.google.com/search?q=x"),
    ],
)
def test_clean_url_stays_an_address(url: str, clean: str) -> None:
    assert clean_url(url) == clean


def test_site_rules_apply_only_to_their_site() -> None:
    # `ved` is tracking on google.com (a ClearURLs site rule), content anywhere else.
    assert clean_url("https://www.google.com/x?ved=1") == "https://www.google.com/x"
    assert clean_url("https://www.example.com/x?ved=1") == "https://www.example.com/x?ved=1"


def test_global_exceptions_keep_their_parameters() -> None:
    # ClearURLs excepts GitLab (ref selects a branch there): the rule data is followed.
    url = "https://gitlab.com/group/project/-/blob/main/x?ref=main"
    assert "ref=main" in clean_url(url)


def test_every_vendored_rule_compiles_and_is_used() -> None:
    data = json.loads(RULES_FILE.read_text(encoding="utf-8"))
    for name, provider in data["providers"].items():
        for key in ("rules", "referralMarketing", "exceptions", "rawRules"):
            for pattern in provider.get(key, []):
                re.compile(pattern, re.IGNORECASE)  # raises on a dialect Python does not read
        re.compile(provider["urlPattern"], re.IGNORECASE), name
    rules = bundled_rules()
    assert len(rules.site_providers) > 150  # the whole file, not a stub
    assert (RULES_FILE.parent / "LICENSE").read_text().startswith(" " * 19 + "GNU LESSER")


def test_rules_come_from_the_data() -> None:
    # A rule file that lists a parameter makes it tracking; the same name is kept without it.
    text = json.dumps(
        {"providers": {
            "globalRules": {"urlPattern": ".*", "rules": ["zzq"], "exceptions": []},
            "site": {"urlPattern": "^https?:\\/\\/(?:[a-z0-9-]+\\.)*?site\\.test", "rules": ["k"]},
        }}
    )  # fmt: skip
    rules = parse_rules(text)
    assert rules.is_tracking(["zzq", "k", "id"], "https://a.site.test/x", "a.site.test") == [
        True,
        True,
        False,
    ]
    assert rules.is_tracking(["zzq", "k"], "https://other.test/x", "other.test") == [True, False]

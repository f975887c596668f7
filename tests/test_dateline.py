"""Pages that claim no publication time in their markup: the day their own title ends with, the
time printed beside the day, and a zoneless time against the feed's zoned one."""

from datetime import UTC, date, datetime, timedelta

import pytest
from newswire.services.extract.dateline import dateline_time, title_day
from newswire.services.extract.metadata import Timestamp, read_meta
from newswire.services.extract.page import parse_page
from newswire.services.extract.reconcile import pick_published

NOW = datetime(2026, 12, 1, tzinfo=UTC)
STORY = "<p>" + "The council met on Tuesday to discuss the transit plan. " * 8 + "</p>"


def page(title: str, body: str) -> str:
    return f"<html><head><title>{title}</title></head><body>{body}</body></html>"


@pytest.mark.parametrize(
    ("line", "day", "at"),
    [
        ("Do 25.04.24 | 14:07 Uhr | Von Eva Beispiel", date(2024, 4, 25), (14, 7)),
        ("erstellt: 01. April 2025, 15:25", date(2025, 4, 1), (15, 25)),
        ("Published April 1, 2025 at 9:05 a.m.", date(2025, 4, 1), (9, 5)),
        ("2024-04-25 08h30", date(2024, 4, 25), (8, 30)),
        ("le 3 mai 2024 à 18:45", date(2024, 5, 3), (18, 45)),
    ],
)
def test_the_time_printed_beside_the_day(line: str, day: date, at: tuple[int, int]) -> None:
    tree = parse_page(page("T", f"<h1>Headline</h1><div class='meta'>{line}</div>{STORY}"))
    assert tree is not None
    assert dateline_time(tree, day) == datetime(day.year, day.month, day.day, *at)


def test_no_time_for_another_day_in_a_long_paragraph_or_in_scripts() -> None:
    other = "<div>Mo 22.04.24 | 09:00 Uhr</div>"  # another day: a teaser's
    long = f"<p>On 25.04.24 at 14:07 {'and more words ' * 20}</p>"  # the story's own text
    script = "<script>var d = '25.04.24 | 14:07';</script>"
    tree = parse_page(page("T", other + long + script + STORY))
    assert tree is not None
    assert dateline_time(tree, date(2024, 4, 25)) is None


def test_the_day_a_title_ends_with() -> None:
    assert title_day(["Gegenoffensive: Ziele, Chancen, Risiken | DW | 28.04.2023"]) == date(
        2023, 4, 28
    )
    assert title_day(["Headline - 2024-04-25"]) == date(2024, 4, 25)
    assert title_day(["Headline | 04/05/2024"]) is None  # day or month first: unknown
    assert title_day(["Headline 2024"]) is None
    assert title_day(["Headline | 31.02.2024"]) is None


def test_a_page_with_no_claim_dates_itself_by_its_title_and_dateline() -> None:
    # An image caption names an earlier day; the title and the date line name the page's.
    body = (
        "<figure><p>Fighting near the city, 24. April 2023</p></figure>"
        "<div class='date'>28.04.2023 | 10:15</div>" + STORY
    )
    tree = parse_page(page("Gegenoffensive | DW | 28.04.2023", body))
    assert tree is not None
    published = read_meta(tree).published
    assert published == Timestamp(datetime(2023, 4, 28, 10, 15, tzinfo=UTC), True, None)


def test_a_zoneless_page_time_yields_to_the_feeds_zoned_time_near_it() -> None:
    wall = Timestamp(datetime(2024, 4, 25, 14, 7, tzinfo=UTC), True, None)  # 14:07 in Berlin
    feed = datetime(2024, 4, 25, 12, 7, tzinfo=UTC)
    assert pick_published(wall, feed, None, NOW) == feed
    # With a zone the page's own time still wins (the feed's may be a later edit).
    zoned = Timestamp(datetime(2024, 4, 25, 12, 7, tzinfo=UTC), True, timedelta(hours=2))
    assert pick_published(zoned, feed + timedelta(hours=3), None, NOW) == zoned.value
    # A feed time days away is no reading of the same moment.
    far = feed + timedelta(days=3)
    assert pick_published(wall, far, None, NOW) == wall.value

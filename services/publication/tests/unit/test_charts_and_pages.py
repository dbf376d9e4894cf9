"""The report's charts are accessible SVG readable without colour; every page text exists
in all three languages."""

import xml.etree.ElementTree as ET

from forbedring_chassis.web import Pages
from forbedring_publication import charts

SVG = "{http://www.w3.org/2000/svg}"
LABELS = {
    "strongly_disagree": "Strongly disagree",
    "disagree": "Disagree",
    "neither": "Neither",
    "agree": "Agree",
    "strongly_agree": "Strongly agree",
}


def test_a_distribution_bar_is_named_and_labels_its_segments_in_text() -> None:
    svg = charts.distribution_bar(
        "c1",
        "Answers to <item> & more",
        {"strongly_disagree": 1, "disagree": 1, "neither": 2, "agree": 4, "strongly_agree": 2},
        LABELS,
    )
    root = ET.fromstring(str(svg))  # well-formed, the title escaped
    assert root.get("role") == "img"
    assert root.get("aria-labelledby") == "c1-title"
    assert root.find(f"{SVG}title").text == "Answers to <item> & more"  # type: ignore[union-attr]
    segment_titles = [t.text for t in root.iter(f"{SVG}title")][1:]
    assert segment_titles == [
        "Strongly disagree: 10 %",
        "Disagree: 10 %",
        "Neither: 20 %",
        "Agree: 40 %",
        "Strongly agree: 20 %",
    ]
    # Not by colour alone: every wide-enough segment prints its share, some carry a pattern.
    assert [t.text for t in root.iter(f"{SVG}text")] == ["10", "10", "20", "40", "20"]
    assert any(r.get("fill", "").startswith("url(#") for r in root.iter(f"{SVG}rect"))


def test_mean_bars_print_every_value_and_a_dash_for_unknown() -> None:
    svg = charts.mean_bars("f", "Means", [("Safety climate", 81.25), ("Teamwork", None)])
    texts = [t.text for t in ET.fromstring(str(svg)).iter(f"{SVG}text")]
    assert texts == ["Safety climate", "81", "Teamwork", "\u2013"]


def test_every_page_text_exists_in_all_three_languages() -> None:
    pages = Pages.for_package("forbedring_publication")
    assert pages.missing_messages() == []
    assert pages.catalog.problems() == []

"""The report's charts are accessible SVG readable without colour; every page text exists
in all three languages; the unit-list export has no numbers for a suppressed unit."""

import xml.etree.ElementTree as ET

from forbedring_chassis.web import Pages
from forbedring_publication import charts
from forbedring_publication.pages import ROLL_UP_MARK, UNIT_LIST_HEADER, unit_list_rows
from forbedring_publication.schemas import (
    PublishedSummary,
    RollUpSummary,
    SuppressedSummary,
    UnitList,
    UnitRef,
)

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
    wide, narrow = ET.fromstring(f"<div>{svg}</div>")  # well-formed, the title escaped
    root = wide
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
    # The phone's drawing: its own title id, and fewer, larger numbers.
    assert narrow.get("aria-labelledby") == "c1-narrow-title"
    assert [t.text for t in narrow.iter(f"{SVG}text")] == ["20", "40", "20"]


def test_each_chart_is_drawn_narrow_for_a_phone_with_its_text_at_14_px_or_more() -> None:
    bar = charts.distribution_bar("c", "T", {"agree": 3, "disagree": 1}, LABELS)
    means = charts.mean_bars("f", "Means", [("A very long factor name indeed, longer", 50.0)])
    for svg in (bar, means):
        wide, narrow = ET.fromstring(f"<div>{svg}</div>")
        assert "chart--wide" in (wide.get("class") or "")
        assert "chart--narrow" in (narrow.get("class") or "")
        width = float((narrow.get("viewBox") or "").split()[2])
        assert width <= 288, "no wider than a 320 px screen's column: not scaled down"
        sizes = [float(t.get("font-size") or 0) for t in narrow.iter(f"{SVG}text")]
        assert sizes
        assert min(sizes) >= 14
    narrow_names = [t.text for t in ET.fromstring(f"<div>{means}</div>")[1].iter(f"{SVG}text")]
    assert narrow_names[0] == "A very long factor name indeed,\u2026"


def test_mean_bars_print_every_value_and_a_dash_for_unknown() -> None:
    svg = charts.mean_bars("f", "Means", [("Safety climate", 81.25), ("Teamwork", None)])
    for drawing in ET.fromstring(f"<div>{svg}</div>"):
        texts = [t.text for t in drawing.iter(f"{SVG}text")]
        assert texts == ["Safety climate", "81", "Teamwork", "\u2013"]


def test_every_page_text_exists_in_all_three_languages() -> None:
    pages = Pages.for_package("forbedring_publication")
    assert pages.missing_messages() == []
    assert pages.catalog.problems() == []


def test_the_unit_list_export_has_no_numbers_for_a_suppressed_unit() -> None:
    data = UnitList(
        period_id="p",
        stage=1,
        units=[
            PublishedSummary(
                unit_id="S-PUB",
                name="=Sengepost",  # a formula-looking name is made text
                published=True,
                respondents=20,
                eligible=24,
                response_rate=83.3,
                level="3",
                parent_id="K",
            ),
            SuppressedSummary(
                unit_id="S-SMALL",
                name="Liten post",
                published=False,
                reason="too_few_respondents",
                included_in=UnitRef(unit_id="K", name="Klinikk"),
                roll_up=None,
                level="3",
                parent_id="K",
            ),
            SuppressedSummary(
                unit_id="K2",
                name="Rehabiliteringsklinikken",
                published=False,
                reason="direct_answers_too_few",
                included_in=UnitRef(unit_id="HF", name="Helse HF"),
                roll_up=RollUpSummary(sub_units=2, respondents=19, unit_respondents=22),
                level="2",
                parent_id="HF",
            ),
        ],
    )
    header, published, suppressed, rolled_up = unit_list_rows(data)
    assert header == UNIT_LIST_HEADER
    assert published[:5] == ["S-PUB", "'=Sengepost", 20, 24, 83.3]
    assert suppressed == [
        "S-SMALL", "Liten post", None, None, None, "3", "K", "no", "K", "Klinikk", None, None, None,
    ]  # fmt: skip
    # A roll-up's X of Y, in columns that say it is the roll-up, not the unit's own figures.
    assert rolled_up[2:5] == [None, None, None]
    by_column = dict(zip(header, rolled_up, strict=True))
    assert by_column["roll_up"] == ROLL_UP_MARK
    assert "not the unit's own results" in ROLL_UP_MARK
    assert (by_column["roll_up_respondents"], by_column["roll_up_unit_respondents"]) == (19, 22)

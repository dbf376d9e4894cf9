"""Inline SVG charts for the report. Readable without colour: every segment and bar
carries its number as text, segments differ by pattern as well as shade, and each chart
has a text alternative (role="img" with a title); the same numbers are in a table too.

Each chart is drawn twice: wide, and narrow for a phone (labels above the bars, larger
type), and the stylesheet shows the one that fits (`.chart--wide`, `.chart--narrow`).
A chart scaled down to a phone's width would shrink its text below reading size; the
narrow drawing is about as wide as a 320 px screen's column, so its text stays at least
14 px.
"""

from collections.abc import Mapping, Sequence
from html import escape

from markupsafe import Markup

# Scale options from "strongly disagree" to "strongly agree": shade and pattern.
_SEGMENTS = (
    ("strongly_disagree", "#8c2d04", "url(#hatch)"),
    ("disagree", "#d95f0e", None),
    ("neither", "#bdbdbd", "url(#dots)"),
    ("agree", "#3182bd", None),
    ("strongly_agree", "#08519c", "url(#hatch)"),
)
_DEFS = (
    '<defs><pattern id="hatch" width="4" height="4" patternUnits="userSpaceOnUse" '
    'patternTransform="rotate(45)"><rect width="2" height="4" fill="#fff" fill-opacity="0.45"/>'
    '</pattern><pattern id="dots" width="4" height="4" patternUnits="userSpaceOnUse">'
    '<circle cx="2" cy="2" r="0.8" fill="#000" fill-opacity="0.5"/></pattern></defs>'
)


NARROW_WIDTH = 280
"""The narrow drawing's width: a 320 px screen's column less the page's padding."""
NARROW_FONT = 15


def _svg(
    chart_id: str, title: str, width: int, height: int, body: str, *, variant: str = "wide"
) -> Markup:
    # Every text in `body` and `title` is escaped where it is put together.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'class="chart chart--{variant}"><title id="{chart_id}-title">{escape(title)}</title>'
        f"{_DEFS}{body}</svg>"
    )


def _short(name: str, length: int) -> str:
    return name if len(name) <= length else name[: length - 1] + "\u2026"


def distribution_bar(
    chart_id: str, title: str, distribution: Mapping[str, int], labels: Mapping[str, str]
) -> Markup:
    """One stacked bar of the valid answers (don't know is shown apart, in text)."""
    return Markup(  # noqa: S704 (both drawings are escaped where they are put together)
        _distribution(chart_id, title, distribution, labels, width=400, font=12, height=28)
        + _distribution(
            chart_id + "-narrow",
            title,
            distribution,
            labels,
            width=NARROW_WIDTH,
            font=NARROW_FONT + 1,
            height=34,
            variant="narrow",
        )
    )


def _distribution(
    chart_id: str,
    title: str,
    distribution: Mapping[str, int],
    labels: Mapping[str, str],
    *,
    width: int,
    font: int,
    height: int,
    variant: str = "wide",
) -> Markup:
    valid = sum(distribution.get(key, 0) for key, _, _ in _SEGMENTS)
    x = 0.0
    parts: list[str] = []
    for key, shade, pattern in _SEGMENTS:
        count = distribution.get(key, 0)
        if not valid or not count:
            continue
        share = count / valid
        w = share * width
        label = f"{labels.get(key, key)}: {round(100 * share)} %"
        parts.append(
            f"<g><title>{escape(label)}</title>"
            f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{shade}" '
            'stroke="#fff" stroke-width="1"/>'
            + (
                f'<rect x="{x:.1f}" y="0" width="{w:.1f}" height="{height}" fill="{pattern}"/>'
                if pattern
                else ""
            )
            + (
                f'<text x="{x + w / 2:.1f}" y="{height / 2 + font * 0.35:.1f}" '
                f'text-anchor="middle" font-size="{font}" '
                f'fill="#fff" stroke="#000" stroke-width="2.5" paint-order="stroke">'
                f"{round(100 * share)}</text>"
                if w >= 2 * font
                else ""
            )
            + "</g>"
        )
        x += w
    return _svg(chart_id, title, width, height, "".join(parts), variant=variant)


def mean_bars(chart_id: str, title: str, rows: Sequence[tuple[str, float | None]]) -> Markup:
    """Horizontal bars of means on 0-100, one per row, each labelled with name and value:
    wide, the name beside its bar; narrow, above it."""
    return Markup(  # noqa: S704 (both drawings are escaped where they are put together)
        _mean_bars_wide(chart_id, title, rows) + _mean_bars_narrow(chart_id, title, rows)
    )


def _mean_bars_wide(chart_id: str, title: str, rows: Sequence[tuple[str, float | None]]) -> Markup:
    bar_h, gap, label_w, width = 18, 10, 180, 480
    parts: list[str] = []
    for index, (name, value) in enumerate(rows):
        y = index * (bar_h + gap)
        parts.append(f'<text x="0" y="{y + 13}" font-size="12">{escape(_short(name, 28))}</text>')
        parts.append(_bar(x=label_w, y=y, width=width - label_w - 40, height=bar_h, value=value))
        parts.append(
            f'<text x="{width - 34}" y="{y + 13}" font-size="12">{escape(_shown(value))}</text>'
        )
    height = max(1, len(rows)) * (bar_h + gap)
    return _svg(chart_id, title, width, height, "".join(parts))


def _mean_bars_narrow(
    chart_id: str, title: str, rows: Sequence[tuple[str, float | None]]
) -> Markup:
    font, bar_h, gap, width = NARROW_FONT, 20, 14, NARROW_WIDTH
    value_w = 3 * font
    row_h = font + 6 + bar_h + gap
    parts: list[str] = []
    for index, (name, value) in enumerate(rows):
        y = index * row_h
        parts.append(
            f'<text x="0" y="{y + font}" font-size="{font}">{escape(_short(name, 32))}</text>'
        )
        bar_y = y + font + 6
        parts.append(_bar(x=0, y=bar_y, width=width - value_w, height=bar_h, value=value))
        parts.append(
            f'<text x="{width - value_w + 8}" y="{bar_y + bar_h - 4}" font-size="{font}">'
            f"{escape(_shown(value))}</text>"
        )
    height = max(1, len(rows)) * row_h
    return _svg(chart_id + "-narrow", title, width, height, "".join(parts), variant="narrow")


def _shown(value: float | None) -> str:
    return "\u2013" if value is None else f"{value:.0f}"


def _bar(*, x: int, y: int, width: int, height: int, value: float | None) -> str:
    """A 0-100 bar: its track, and the value's fill."""
    track = (
        f'<rect x="{x}" y="{y}" width="{width}" height="{height}" fill="#f0f0f0" stroke="#767676"/>'
    )
    if value is None:
        return track
    return track + (
        f'<rect x="{x}" y="{y}" width="{width * value / 100:.1f}" height="{height}" '
        'fill="#12355b"/>'
    )

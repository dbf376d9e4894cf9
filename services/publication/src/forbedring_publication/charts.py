"""Inline SVG charts for the report. Readable without colour: every segment and bar
carries its number as text, segments differ by pattern as well as shade, and each chart
has a text alternative (role="img" with a title); the same numbers are in a table too."""

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


def _svg(chart_id: str, title: str, width: int, height: int, body: str) -> Markup:
    # Every text in `body` and `title` is escaped where it is put together.
    return Markup(  # noqa: S704
        f'<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-labelledby="{chart_id}-title" '
        f'viewBox="0 0 {width} {height}" width="100%" preserveAspectRatio="xMinYMin meet" '
        f'class="chart"><title id="{chart_id}-title">{escape(title)}</title>{_DEFS}{body}</svg>'
    )


def distribution_bar(
    chart_id: str, title: str, distribution: Mapping[str, int], labels: Mapping[str, str]
) -> Markup:
    """One stacked bar of the valid answers (don't know is shown apart, in text)."""
    valid = sum(distribution.get(key, 0) for key, _, _ in _SEGMENTS)
    width, height, x = 400.0, 28, 0.0
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
                f'<text x="{x + w / 2:.1f}" y="19" text-anchor="middle" font-size="12" '
                f'fill="#fff" stroke="#000" stroke-width="2.5" paint-order="stroke">'
                f"{round(100 * share)}</text>"
                if w >= 24
                else ""
            )
            + "</g>"
        )
        x += w
    return _svg(chart_id, title, int(width), height, "".join(parts))


def mean_bars(chart_id: str, title: str, rows: Sequence[tuple[str, float | None]]) -> Markup:
    """Horizontal bars of means on 0-100, one per row, each labelled with name and value."""
    bar_h, gap, label_w, width = 18, 10, 180, 480
    parts: list[str] = []
    for index, (name, value) in enumerate(rows):
        y = index * (bar_h + gap)
        shown = "\u2013" if value is None else f"{value:.0f}"
        parts.append(
            f'<text x="0" y="{y + 13}" font-size="12">{escape(name[:28])}</text>'
            f'<rect x="{label_w}" y="{y}" width="{width - label_w - 40}" height="{bar_h}" '
            'fill="#f0f0f0" stroke="#767676"/>'
        )
        if value is not None:
            w = (width - label_w - 40) * value / 100
            parts.append(
                f'<rect x="{label_w}" y="{y}" width="{w:.1f}" height="{bar_h}" fill="#12355b"/>'
            )
        parts.append(f'<text x="{width - 34}" y="{y + 13}" font-size="12">{escape(shown)}</text>')
    height = max(1, len(rows)) * (bar_h + gap)
    return _svg(chart_id, title, width, height, "".join(parts))

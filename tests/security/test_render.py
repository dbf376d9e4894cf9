"""docs/resilience.md's security section is replaced in place; the fault suite's is kept."""

from tests.security.render import HEADING, SKELETON, render


def test_the_security_section_is_replaced_and_the_rest_kept() -> None:
    document = SKELETON + f"{HEADING}\n\nold figures\n\n## Later\n\nkept\n"
    once = render(document, f"{HEADING}\n\nnew figures\n")
    assert "old figures" not in once
    assert "new figures" in once
    assert "## Fault suite" in once
    assert "## Later\n\nkept" in once
    assert render(once, f"{HEADING}\n\nnew figures\n") == once


def test_a_document_without_the_section_gets_it_at_the_end() -> None:
    rendered = render(SKELETON, f"{HEADING}\n\nfigures\n")
    assert rendered.startswith(SKELETON.rstrip("\n"))
    assert rendered.endswith(f"{HEADING}\n\nfigures\n")

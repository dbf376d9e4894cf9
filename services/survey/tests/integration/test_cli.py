"""The HR import command: the same all-or-nothing import, problems printed."""

import json
from pathlib import Path

import pytest

from forbedring_survey import cli
from forbedring_survey.domain.org_import import parse_json, to_csv_files
from forbedring_survey.testing import small_organisation

from .conftest import Harness


async def test_the_command_imports_csv_files_and_prints_every_problem(
    harness: Harness, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    period = await harness.api.create_period()
    organisation = small_organisation({"a": 3})
    files = to_csv_files(parse_json(json.dumps(organisation)))
    broken = {**files, "units.csv": files["units.csv"] + "x,nowhere,X,section\r\n"}
    for name, content in broken.items():
        (tmp_path / name).write_text(content)
    paths = [tmp_path / name for name in sorted(broken)]

    refused = await cli.import_files(settings=harness.settings, period_id=period["id"], files=paths)
    assert refused == cli.EXIT_REFUSED
    printed = capsys.readouterr().err
    assert "units.csv, row 3 (spreadsheet row 4): [unknown_parent]" in printed
    assert await harness.sql("SELECT * FROM units") == []

    (tmp_path / "units.csv").write_text(files["units.csv"])
    imported = await cli.import_files(
        settings=harness.settings, period_id=period["id"], files=paths
    )
    assert imported == cli.EXIT_OK
    assert "3 invitations" in capsys.readouterr().out

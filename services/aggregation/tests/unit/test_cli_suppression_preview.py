"""`forbedring suppression-preview FILE`, run as a real process and in-process."""

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from forbedring_aggregation.cli import main

T2_INPUT = {
    "k": 5,
    "units": [
        {"id": "P", "parent": None, "direct": 0},
        {"id": "A", "parent": "P", "direct": 15},
        {"id": "B", "parent": "P", "direct": 3},
        {"id": "C", "parent": "P", "direct": 2},
    ],
}


def run(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "forbedring_aggregation.cli", *args],
        capture_output=True,
        text=True,
        input=stdin,
        timeout=60,
        check=False,
    )


def write(tmp_path: Path, content: Any) -> str:
    path = tmp_path / "tree.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return str(path)


def test_t2_in_a_subprocess(tmp_path: Path) -> None:
    done = run("suppression-preview", write(tmp_path, T2_INPUT))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"published": ["A", "P"], "suppressed": ["B", "C"]}
    assert done.stdout == '{"published": ["A", "P"], "suppressed": ["B", "C"]}\n'
    assert done.stderr == ""


def test_malformed_file_in_a_subprocess(tmp_path: Path) -> None:
    done = run("suppression-preview", write(tmp_path, '{"k": 5, "units": [{"id": "P",'))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "is not valid JSON" in done.stderr


def test_invalid_tree_in_a_subprocess(tmp_path: Path) -> None:
    bad = {
        "k": 5,
        "units": [
            {"id": "P", "parent": None, "direct": 0},
            {"id": "Q", "parent": None, "direct": 4},
            {"id": "A", "parent": "nowhere", "direct": -2},
        ],
    }
    done = run("suppression-preview", write(tmp_path, bad))
    assert done.returncode == 2
    assert done.stdout == ""
    assert "invalid unit tree" in done.stderr
    assert "2 roots" in done.stderr
    assert "unit 'A': unknown parent 'nowhere'" in done.stderr
    assert "unit 'A': direct must be >= 0, got -2" in done.stderr


def test_standard_input() -> None:
    done = run("suppression-preview", "-", stdin=json.dumps(T2_INPUT))
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["published"] == ["A", "P"]


def test_installed_console_script(tmp_path: Path) -> None:
    script = Path(sys.executable).parent / "forbedring"
    if not script.exists():
        pytest.fail(f"{script} is missing: run `uv sync`")
    done = subprocess.run(
        [str(script), "suppression-preview", write(tmp_path, T2_INPUT)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"published": ["A", "P"], "suppressed": ["B", "C"]}


@pytest.mark.parametrize(
    ("document", "message"),
    [
        pytest.param([], "expected a JSON object", id="not-an-object"),
        pytest.param({"units": []}, "missing key(s): k", id="no-k"),
        pytest.param({"k": 0, "units": []}, '"k" must be an integer >= 1', id="k-zero"),
        pytest.param({"k": True, "units": []}, '"k" must be an integer >= 1', id="k-bool"),
        pytest.param({"k": 5, "units": {}}, '"units" must be a list', id="units-object"),
        pytest.param({"k": 5, "units": [], "x": 1}, "unknown key(s): x", id="extra-key"),
        pytest.param({"k": 5, "units": []}, "no units", id="empty"),
        pytest.param({"k": 5, "units": [3]}, "units[0]: expected an object", id="unit-number"),
        pytest.param(
            {"k": 5, "units": [{"id": "R", "parent": None}]},
            "units[0]: missing key(s): direct",
            id="unit-no-direct",
        ),
        pytest.param(
            {"k": 5, "units": [{"id": "R", "parent": None, "direct": 1.5}]},
            '"direct" must be an integer, got 1.5',
            id="direct-float",
        ),
        pytest.param(
            {"k": 5, "units": [{"id": 7, "parent": None, "direct": 1}]},
            '"id" must be a non-empty string, got 7',
            id="id-number",
        ),
        pytest.param(
            {"k": 5, "units": [{"id": "A", "parent": "A", "direct": 1}]},
            "cycle: A -> A",
            id="cycle",
        ),
    ],
)
def test_invalid_input_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], document: Any, message: str
) -> None:
    assert main(["suppression-preview", write(tmp_path, document)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert message in captured.err
    assert captured.err.startswith("forbedring suppression-preview: error:")


def test_missing_file_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suppression-preview", str(tmp_path / "absent.json")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_k_from_the_file_is_used(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["suppression-preview", write(tmp_path, {**T2_INPUT, "k": 16})]) == 0
    assert json.loads(capsys.readouterr().out) == {
        "published": ["P"],
        "suppressed": ["A", "B", "C"],
    }


def test_a_subcommand_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == 2
    assert "COMMAND" in capsys.readouterr().err

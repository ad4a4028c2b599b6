"""Every file under schemas/examples/policy/ is a case: valid ones load, invalid ones fail
with the line, JSON pointer, message and remedy their first-line ``# expect:`` comment
names. A new file there is a new test."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from pipeledger.cli.main import main
from pipeledger.config import schema_text
from pipeledger.errors import ExitCode
from pipeledger.policy.loader import PolicyError, load_policy
from pipeledger.policy.rules import RULE_TYPES

ROOT = Path(__file__).resolve().parents[3]
EXAMPLES = ROOT / "schemas" / "examples" / "policy"
VALID = sorted((EXAMPLES / "valid").glob("*.yml"))
INVALID = sorted((EXAMPLES / "invalid").glob("*.yml"))


def expectation(path: Path) -> dict[str, str]:
    header = path.read_text(encoding="utf-8").splitlines()[0]
    assert header.startswith("# expect: "), f"{path.name} needs an '# expect:' first line"
    pairs = shlex.split(header.removeprefix("# expect: "))
    return dict(pair.split("=", 1) for pair in pairs)


def test_there_are_at_least_fifteen_kinds_of_mistakes() -> None:
    assert len(INVALID) >= 15


@pytest.mark.parametrize("path", VALID, ids=lambda p: p.name)
def test_valid_policy_loads(path: Path) -> None:
    loaded = load_policy(str(path))
    assert len(loaded.rules) == len(loaded.policy.rules) >= 1


@pytest.mark.parametrize("path", INVALID, ids=lambda p: p.name)
def test_invalid_policy_names_line_pointer_and_fix(path: Path) -> None:
    expected = expectation(path)
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    problem = caught.value.problems[0]
    assert problem.line == int(expected["line"]), caught.value.describe()
    assert problem.pointer == expected["pointer"], caught.value.describe()
    assert expected["message"] in problem.message, caught.value.describe()
    assert expected["remedy"] in problem.remedy, caught.value.describe()
    rendered = caught.value.describe()
    assert f"{path}:{expected['line']}: at {expected['pointer'] or '/'}:" in rendered


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    path = tmp_path / "two.yml"
    path.write_text(
        "version: 1\nrules:\n  - id: a\n    type: require-reviw\n  - id: b\n    type: actor\n"
        "    severity: high\n",
        encoding="utf-8",
    )
    with pytest.raises(PolicyError) as caught:
        load_policy(str(path))
    assert [(p.line, p.pointer) for p in caught.value.problems] == [
        (4, "/rules/0/type"),
        (7, "/rules/1/severity"),
    ]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(Exception, match="does not exist"):
        load_policy(str(tmp_path / "nope.yml"))


@pytest.mark.parametrize("command", ["check", "audit"])
def test_cli_exits_2_with_location(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = EXAMPLES / "invalid" / "bad-severity.yml"
    code = main(
        [command, "--policy", str(path), "--sink", f"sqlite:///{tmp_path}/l.db"], environ={}
    )
    assert code == ExitCode.USAGE
    err = capsys.readouterr().err
    assert re.search(r"bad-severity\.yml:6: at /rules/0/severity: 'fatal' is not allowed", err)
    assert "Write one of: error, warning, notice." in err


def test_every_rule_type_is_named_by_its_own_class() -> None:
    """RULE_TYPES imports a type's module on first use: each name leads to the class that
    carries that name, and the schema offers exactly these types."""
    schema = json.loads(schema_text("policy.v1.schema.json"))
    for name in RULE_TYPES:
        assert RULE_TYPES[name].type_name == name
    assert sorted(RULE_TYPES) == sorted(schema["$defs"]["rule"]["properties"]["type"]["enum"])

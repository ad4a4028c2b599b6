"""Policy and config files written to hurt: alias bombs, recursive aliases, nesting deep enough
to exhaust the stack, and JMESPath conditions built to do the same. Each is refused with exit 2
and the line where it happens, before anything is expanded; ordinary anchors still work."""

from __future__ import annotations

from pathlib import Path

import pytest

from pipeledger.errors import ConfigError, ExitCode
from pipeledger.policy.loader import PolicyError, load_policy
from pipeledger.yaml_limits import MAX_ALIASES, MAX_DEPTH
from tests.adversarial.hostile_env import run

RULE = """  - id: prod-review
    type: require-review
"""

# Nine lists of nine: 9**9 (387 million) strings once expanded, from about 600 bytes.
BILLION_LAUGHS = (
    "version: 1\n"
    'lol: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(f"l{n}: &{chr(98 + n)} [{', '.join([f'*{chr(97 + n)}'] * 9)}]\n" for n in range(8))
    + "rules:\n"
    + RULE
)


def write(tmp_path: Path, text: str, name: str = "policy.yml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def refused(tmp_path: Path, text: str) -> PolicyError:
    with pytest.raises(PolicyError) as raised:
        load_policy(str(write(tmp_path, text)))
    assert raised.value.exit_code == ExitCode.USAGE
    return raised.value


def test_the_billion_laughs_is_refused_at_the_alias_that_overflows(tmp_path: Path) -> None:
    assert len(BILLION_LAUGHS.encode()) < 700
    error = refused(tmp_path, BILLION_LAUGHS)
    # lol=10 values, l0=91, l1=820, l2=7,381, l3=66,430: the budget runs out in l4's line.
    assert ".yml:7: " in error.message
    assert "alias bomb" in error.message


def test_a_recursive_alias_is_refused(tmp_path: Path) -> None:
    error = refused(tmp_path, f"version: 1\nloop: &a [1, *a]\nrules:\n{RULE}")
    assert ".yml:2: " in error.message and "refers to its own anchor" in error.message


@pytest.mark.parametrize("style", ["flow", "block"])
def test_nesting_deeper_than_the_stack_is_refused_not_a_recursion_error(
    tmp_path: Path, style: str
) -> None:
    depth = 20_000
    if style == "flow":
        deep = "[" * depth + "]" * depth
    else:
        deep = "\n" + "".join("  " * n + "- \n" for n in range(200))
    error = refused(tmp_path, f"version: 1\ndeep: {deep}\nrules:\n{RULE}")
    assert f"nested more than {MAX_DEPTH} levels" in error.message
    assert ".yml:2: " in error.message or style == "block"


def test_aliases_that_nest_deeply_once_expanded_are_refused(tmp_path: Path) -> None:
    chain = "a0: &a0 [1]\n" + "".join(f"a{n}: &a{n} [*a{n - 1}]\n" for n in range(1, 100))
    error = refused(tmp_path, f"version: 1\n{chain}rules:\n{RULE}")
    assert "once *a" in error.message


def test_too_many_aliases_are_refused(tmp_path: Path) -> None:
    many = "x: &x 1\nlots: [" + ", ".join(["*x"] * (MAX_ALIASES + 1)) + "]\n"
    error = refused(tmp_path, f"version: 1\n{many}rules:\n{RULE}")
    assert f"more than {MAX_ALIASES} aliases" in error.message


def test_ordinary_anchors_and_merge_keys_still_load(tmp_path: Path) -> None:
    text = """version: 1
rules:
  - &review
    id: prod-review
    type: require-review
    match: &prod {environments: &envs [production, prod-*]}
  - id: staging-review
    type: require-review
    match: {<<: *prod, repositories: [acme/*]}
  - id: prod-approval
    type: require-approval
    match: {environments: *envs}
"""
    loaded = load_policy(str(write(tmp_path, text)))
    assert [spec.id for spec in loaded.policy.rules] == [
        "prod-review",
        "staging-review",
        "prod-approval",
    ]


def expression_rule(condition: str) -> str:
    return f"""version: 1
rules:
  - id: ok
    type: require-review
  - id: custom
    type: expression
    condition: '{condition}'
"""


@pytest.mark.parametrize(
    "condition",
    [
        "!" * 5_000 + "pending",  # each ! one level of the parser's recursion
        "(" * 3_000 + "pending" + ")" * 3_000,
        " && ".join(["(pending"] * 60) + ")" * 60,  # fine for the parser, deep to evaluate
        "`" + "[" * 3_000 + "]" * 3_000 + "`",  # a deeply nested JSON literal
        "pending || " * 600 + "pending",  # over the length limit
    ],
    ids=["nots", "parentheses", "nested-ands", "deep-literal", "long"],
)
def test_a_condition_built_to_exhaust_the_stack_is_refused_with_its_line(
    tmp_path: Path, condition: str
) -> None:
    error = refused(tmp_path, expression_rule(condition))
    assert ".yml:7: " in error.message
    assert "/rules/1/condition" in error.message
    assert "levels" in error.message or "characters long" in error.message


def test_an_ordinary_condition_still_compiles(tmp_path: Path) -> None:
    condition = (
        "!starts_with(ref, ''refs/heads/hotfix/'') ||"
        " length(approvals[?action==''approved'']) >= `2`"
    )
    loaded = load_policy(str(write(tmp_path, expression_rule(condition))))
    assert len(loaded.rules) == 2


def test_the_cli_exits_2_naming_the_line(tmp_path: Path) -> None:
    policy = write(tmp_path, BILLION_LAUGHS)
    outcome = run(
        ["audit", "--policy", str(policy), "--sink", f"sqlite:///{tmp_path / 'l.db'}"], {}
    )
    assert outcome.code == 2, outcome.err
    assert "policy.yml:7: " in outcome.err and "Traceback" not in outcome.err


def test_a_config_file_alias_bomb_is_refused_with_its_line(tmp_path: Path) -> None:
    config = write(tmp_path, BILLION_LAUGHS.replace("version: 1\n", ""), "pipeledger.yml")
    outcome = run(["--config", str(config), "verify", "--sink", "sqlite:///x.db"], {})
    assert outcome.code == 2, outcome.err
    assert "line 6, column" in outcome.err and "alias bomb" in outcome.err


def test_a_deeply_nested_config_file_is_refused(tmp_path: Path) -> None:
    from pipeledger.config import load_config_file

    config = write(tmp_path, "sink: " + "[" * 10_000 + "]" * 10_000 + "\n", "c.yml")
    with pytest.raises(ConfigError, match="nested more than"):
        load_config_file(str(config), {})

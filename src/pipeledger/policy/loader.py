"""Loads a policy file: YAML with line numbers, the JSON schema, then what a schema cannot
say (time zones, globs, duplicate ids, conditions). Every problem names file, line and
JSON pointer and what to write instead; all of them are reported at once."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pipeledger.config import schema_text
from pipeledger.docs_links import docs_url
from pipeledger.errors import ConfigError
from pipeledger.policy._problems import Problem, describe, pointer_of
from pipeledger.policy._yamlpos import LocatedDocument, load_located
from pipeledger.policy.globs import glob_problem
from pipeledger.policy.model import Policy, RuleSpec, Severity
from pipeledger.policy.rules import RULE_TYPES
from pipeledger.policy.rules.base import Rule, RuleProblem
from pipeledger.schema_fast import schema_errors
from pipeledger.yaml_limits import YamlLimitExceeded

SCHEMA_FILE = "policy.v1.schema.json"
_COMMON_KEYS = ("id", "type", "severity", "description", "remedy", "docs", "match")
_STARTER = (
    "Start it with:  version: 1  then  rules:  and a list of rules (see"
    f" {docs_url('policies', 'rules')})."
)


class PolicyError(ConfigError):
    """A policy file that cannot be used (exit 2); lists every problem found."""

    def __init__(self, path: str, problems: Sequence[Problem]) -> None:
        ordered = sorted(set(problems))
        lines = "\n".join("  " + p.render(path) for p in ordered)
        count = f"{len(ordered)} problem{'s' if len(ordered) != 1 else ''}"
        super().__init__(
            f"The policy file {path} has {count}:\n{lines}",
            "Fix the file; schemas/policy.v1.schema.json describes every key, and"
            f" {docs_url('policies')} every rule type.",
        )
        self.path = path
        self.problems = ordered

    def describe(self) -> str:
        return f"{self.message}\n{self.remedy}"


@dataclass(frozen=True)
class LoadedPolicy:
    policy: Policy
    rules: Sequence[Rule]
    # The ``anomalies:`` section, schema-checked; read by ``pipeledger anomalies``.
    anomalies: Mapping[str, Any] = field(default_factory=dict)


def load_policy(path: str) -> LoadedPolicy:
    raw = _read(path)
    text = _decode(path, raw)
    document = _parse(path, text)
    problems = list(_yaml_problems(document))
    problems += _schema_problems(document)
    if problems:
        raise PolicyError(path, problems)
    specs = _specs(document)
    rules, problems = _build_rules(specs)
    problems = [_relocate(document, p) for p in problems]
    problems += _semantic_problems(document, specs)
    if problems:
        raise PolicyError(path, problems)
    teams = {
        str(name): frozenset(str(login).lower() for login in members)
        for name, members in (document.data.get("teams") or {}).items()
    }
    policy = Policy(path=path, sha256=hashlib.sha256(raw).hexdigest(), rules=specs, teams=teams)
    anomalies = document.data.get("anomalies") or {}
    return LoadedPolicy(policy=policy, rules=rules, anomalies=anomalies)


def _read(path: str) -> bytes:
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"The policy file {path} does not exist.",
            "Pass the path of your policy with --policy, e.g. examples/policies/baseline.yml.",
        ) from None
    except OSError as error:
        raise ConfigError(f"The policy file {path} cannot be read: {error.strerror}.") from None


def _decode(path: str, raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise PolicyError(
            path, [Problem(line, "", "the file is not UTF-8 text", "Save it as UTF-8.")]
        ) from None


def _parse(path: str, text: str) -> LocatedDocument:
    try:
        document = load_located(text)
    except YamlLimitExceeded as error:
        problem = f"column {error.column}: {error.problem}"
        remedy = (
            "A policy needs no more than a few levels and aliases; write the lists out, or"
            " share them with a team or a few anchors."
        )
        raise PolicyError(path, [Problem(error.line, "", problem, remedy)]) from None
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None) or getattr(error, "context_mark", None)
        line = mark.line + 1 if mark else 1
        column = f", column {mark.column + 1}" if mark else ""
        problem = str(getattr(error, "problem", None) or "invalid YAML")
        context, context_mark = (
            getattr(error, "context", None),
            getattr(error, "context_mark", None),
        )
        if context and context_mark is not None and context_mark.line + 1 != line:
            problem += f" ({context} started on line {context_mark.line + 1})"
        raise PolicyError(
            path,
            [
                Problem(
                    line,
                    "",
                    f"YAML syntax error{column}: {problem}",
                    "Indent with spaces (not tabs), quote values containing ': ' or '#',"
                    " and close every bracket and quote.",
                )
            ],
        ) from None
    if document.data is None:
        raise PolicyError(path, [Problem(1, "", "the policy file is empty", _STARTER)])
    return document


def _yaml_problems(document: LocatedDocument) -> Iterator[Problem]:
    for item in document.problems:
        yield Problem(item.line, item.pointer, item.message, item.remedy)


def _schema_problems(document: LocatedDocument) -> list[Problem]:
    schema = json.loads(schema_text(SCHEMA_FILE))
    problems = []
    for error in schema_errors(document.data, schema):
        pointer, message, remedy = describe(error, schema)
        line = document.key_lines.get(pointer) or document.line_of(pointer)
        problems.append(Problem(line, pointer, message, remedy))
    return problems


def _specs(document: LocatedDocument) -> list[RuleSpec]:
    specs = []
    for index, rule in enumerate(document.data["rules"]):
        specs.append(
            RuleSpec(
                id=rule["id"],
                type=rule["type"],
                severity=Severity(rule.get("severity", "error")),
                line=document.line_of(f"/rules/{index}"),
                description=rule.get("description"),
                remedy=rule.get("remedy"),
                docs=rule.get("docs"),
                match=rule.get("match") or {},
                params={k: v for k, v in rule.items() if k not in _COMMON_KEYS},
            )
        )
    return specs


def _build_rules(specs: Sequence[RuleSpec]) -> tuple[list[Rule], list[Problem]]:
    rules: list[Rule] = []
    problems: list[Problem] = []
    for index, spec in enumerate(specs):
        try:
            rules.append(RULE_TYPES[spec.type](spec))
        except RuleProblem as problem:
            pointer = f"/rules/{index}{problem.pointer}"
            problems.append(Problem(0, pointer, problem.message, problem.remedy))
    return rules, problems


def _semantic_problems(document: LocatedDocument, specs: Sequence[RuleSpec]) -> list[Problem]:
    problems = [_relocate(document, p) for p in _glob_problems(document.data)]
    seen: dict[str, int] = {}
    for index, spec in enumerate(specs):
        if spec.id in seen:
            problems.append(
                Problem(
                    document.line_of(f"/rules/{index}/id"),
                    f"/rules/{index}/id",
                    f"the id {spec.id!r} is already used by the rule on line"
                    f" {specs[seen[spec.id]].line}",
                    "Give every rule its own id; findings and suppressions refer to it.",
                )
            )
        seen.setdefault(spec.id, index)
    return problems


def _relocate(document: LocatedDocument, problem: Problem) -> Problem:
    line = document.line_of(problem.pointer)
    return Problem(line, problem.pointer, problem.message, problem.remedy)


_GLOB_KEYS = ("environments", "repositories", "refs", "users", "targets")


def _glob_problems(data: Any, path: tuple[Any, ...] = ()) -> Iterator[Problem]:
    if isinstance(data, Mapping):
        for key, value in data.items():
            if key in _GLOB_KEYS and isinstance(value, list):
                yield from _check_globs(value, (*path, key))
            else:
                yield from _glob_problems(value, (*path, key))
    elif isinstance(data, list):
        for index, item in enumerate(data):
            yield from _glob_problems(item, (*path, index))


def _check_globs(patterns: list[Any], path: tuple[Any, ...]) -> Iterator[Problem]:
    for index, pattern in enumerate(patterns):
        why = glob_problem(str(pattern))
        if why:
            yield Problem(
                0,
                pointer_of((*path, index)),
                f"{str(pattern)!r} is not a usable glob: {why}",
                "Write a glob such as prod*, refs/tags/v* or release/[0-9]*.",
            )

"""The findings formats: SARIF against the official 2.1.0 schema, GitHub's annotation
limits, JUnit, GitLab Code Quality and versioned JSON."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from datetime import UTC, datetime
from pathlib import Path

import jsonschema
import pytest

from pipeledger.policy.engine import Evaluation
from pipeledger.policy.loader import LoadedPolicy
from pipeledger.policy.model import FailOn
from pipeledger.report import github, gitlab, json_format, junit, sarif, text
from pipeledger.report.model import Report
from tests.core.policy.builders import approval, deployment, judge, policy_from, rule_yaml, run
from tests.paths import fixture

SARIF_SCHEMA = fixture("sarif", "sarif-2.1.0-rtm.5.json")
RULES = """
  - id: prod-approval
    type: require-approval
    match: {environments: [production]}
  - id: prod-window
    type: deploy-window
    severity: warning
    allow: [{days: [mon], hours: "06:00-07:00"}]
  - id: note-bots
    type: actor
    severity: notice
    deny: {users: ["*"]}
"""


def build_report(
    loaded: LoadedPolicy, evaluation: Evaluation, fail_on: FailOn = FailOn.ERROR
) -> Report:
    return Report.of(
        "audit", loaded.policy, evaluation, fail_on, datetime(2026, 3, 11, 12, tzinfo=UTC)
    )


def error_report(loaded: LoadedPolicy, error: str) -> Report:
    """``check`` that could not judge: no evaluation, only the error."""
    return Report(
        command="check",
        policy=loaded.policy,
        decision="error",
        fail_on=FailOn.ERROR,
        evaluation=None,
        generated_at=datetime(2026, 3, 11, tzinfo=UTC),
        error=error,
    )


@pytest.fixture
def loaded(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> LoadedPolicy:
    monkeypatch.chdir(tmp_path)
    (tmp_path / "policies").mkdir()
    return policy_from(tmp_path / "policies", rule_yaml(RULES))


def many_deployments(count: int) -> list:  # type: ignore[type-arg]
    events = []
    for index in range(count):
        events += [run(str(index)), deployment(str(1000 + index), run_id=str(index))]
    return events


def test_sarif_is_valid_against_the_official_schema(loaded: LoadedPolicy) -> None:
    evaluation = judge(loaded, [*many_deployments(2), approval("carol", run_id="0")])
    document = json.loads(sarif.render(build_report(loaded, evaluation)))
    schema = json.loads(SARIF_SCHEMA.read_text(encoding="utf-8"))
    jsonschema.Draft4Validator(schema).validate(document)
    run_ = document["runs"][0]
    assert [r["id"] for r in run_["tool"]["driver"]["rules"]] == [
        "prod-approval",
        "prod-window",
        "note-bots",
    ]
    levels = sorted({r["level"] for r in run_["results"]})
    assert levels == ["error", "note", "warning"]
    location = run_["results"][0]["locations"][0]["physicalLocation"]
    assert location["artifactLocation"]["uri"] == "policies/policy.yml"
    assert all(r["partialFingerprints"]["pipeledgerFinding/v1"] for r in run_["results"])


def test_sarif_with_an_error_and_no_findings_is_valid(loaded: LoadedPolicy) -> None:
    document = json.loads(sarif.render(error_report(loaded, "API down")))
    jsonschema.Draft4Validator(json.loads(SARIF_SCHEMA.read_text())).validate(document)
    assert document["runs"][0]["invocations"][0]["executionSuccessful"] is False


def test_github_keeps_ten_errors_and_a_notice_for_the_rest(loaded: LoadedPolicy) -> None:
    evaluation = judge(loaded, many_deployments(12))
    lines = github.render(build_report(loaded, evaluation)).splitlines()
    errors = [line for line in lines if line.startswith("::error ")]
    warnings = [line for line in lines if line.startswith("::warning ")]
    notices = [line for line in lines if line.startswith("::notice ")]
    assert len(errors) == 10 and len(warnings) == 10 and len(notices) == 10
    assert "7 more finding(s)" in notices[-1]  # 36 findings, 29 shown
    assert errors[0].startswith(
        "::error title=pipeledger prod-approval,file=policies/policy.yml,line="
    )


def test_github_escapes_workflow_command_data() -> None:
    assert github.escape_data("a%b\nc") == "a%25b%0Ac"
    assert github.escape_property("x:y,z") == "x%3Ay%2Cz"
    # A multi-line secret is masked by its lines of key material, never as one command.
    body = "MC4CAQAwBQYDK2VwBCIEIAbCdEfGhIjKlMnOpQrStUvWxYz"
    pem = f"-----BEGIN PRIVATE KEY-----\n{body}\n-----END PRIVATE KEY-----\n"
    assert github.mask_commands(["tok%en", pem]) == (
        "::add-mask::MC4CAQAwBQYDK2VwBCIEIAbCdEfGhIjKlMnOpQrStUvWxYz\n::add-mask::tok%25en\n"
    )


def test_github_summary_and_outputs(loaded: LoadedPolicy) -> None:
    files = github.step_files(build_report(loaded, judge(loaded, many_deployments(1))))
    assert files.outputs == {"decision": "fail", "violations": "3"}
    assert files.summary.startswith("### pipeledger audit: ❌ fail")
    assert "| `prod-approval` | require-approval | 1 | 1 |" in files.summary


def test_junit_has_a_case_per_judged_subject(loaded: LoadedPolicy) -> None:
    events = [*many_deployments(2), approval("carol", run_id="0")]
    evaluation = judge(loaded, events)
    for result in evaluation.results:  # as check/audit do when JUnit is asked for
        result.subjects.extend(
            {f.subject.key: f.subject for f in judge(loaded, events).findings}.values()
        )
    root = ET.fromstring(junit.render(build_report(loaded, evaluation)))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert suites["prod-approval"].get("failures") == "1"
    assert suites["prod-window"].get("failures") == "0"  # warnings do not fail on error
    assert root.get("failures") == "1"


def test_gitlab_code_quality(loaded: LoadedPolicy) -> None:
    issues = json.loads(gitlab.render(build_report(loaded, judge(loaded, many_deployments(1)))))
    assert {i["severity"] for i in issues} == {"critical", "major", "info"}
    first = issues[0]
    assert set(first) == {"description", "check_name", "fingerprint", "severity", "location"}
    assert first["location"]["path"] == "policies/policy.yml"
    assert isinstance(first["location"]["lines"]["begin"], int)
    again = json.loads(gitlab.render(build_report(loaded, judge(loaded, many_deployments(1)))))
    assert [i["fingerprint"] for i in again] == [i["fingerprint"] for i in issues]
    assert len({i["fingerprint"] for i in issues}) == len(issues)


def test_json_and_text(loaded: LoadedPolicy) -> None:
    report = build_report(loaded, judge(loaded, many_deployments(1)))
    document = json.loads(json_format.render(report))
    assert document["schema"] == "pipeledger/findings/v1" and document["decision"] == "fail"
    assert document["rules"][0] == {
        "rule_id": "prod-approval",
        "rule_type": "require-approval",
        "severity": "error",
        "evaluated": 1,
        "violations": 1,
    }
    assert text.render(report).startswith("pipeledger audit: FAIL - 3 finding(s)")


def _as_elementtree_writes_it(rendered: str) -> str:
    """The document ElementTree writes for the tree ``rendered`` parses to."""
    root = ET.fromstring(rendered)
    ET.indent(root)
    return junit.DECLARATION + ET.tostring(root, encoding="unicode") + "\n"


def test_junit_in_pieces_is_what_elementtree_writes_for_the_whole(
    loaded: LoadedPolicy, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(junit, "PER_CHUNK", 2)  # pieces end inside a suite's cases
    events = [*many_deployments(5), approval("carol", run_id="0")]
    evaluation = judge(loaded, events)
    for result in evaluation.results:
        result.subjects.extend(
            {f.subject.key: f.subject for f in judge(loaded, events).findings}.values()
        )
    report = build_report(loaded, evaluation)
    pieces = list(junit.render_chunks(report))
    rendered = "".join(pieces)
    assert len(pieces) > len(evaluation.results) + 2
    assert rendered == _as_elementtree_writes_it(rendered)
    assert "<testcase" in rendered and "<failure" in rendered and "<system-out" in rendered
    rendered = junit.render(error_report(loaded, 'API <down> & "out"'))
    assert rendered == _as_elementtree_writes_it(rendered)
    assert ET.fromstring(rendered).find("testsuite/testcase/error").get("message") == (  # type: ignore[union-attr]
        'API <down> & "out"'
    )

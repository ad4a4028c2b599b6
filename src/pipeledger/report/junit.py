"""JUnit XML: a test suite per rule, a test case per subject it judged; findings at or
above ``--fail-on`` are failures."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from pipeledger.events import format_time
from pipeledger.policy.engine import RuleResult
from pipeledger.report.model import Report


def render(report: Report) -> str:
    root = ET.Element("testsuites", name=f"pipeledger {report.command}")
    total = failures = 0
    for result in report.results:
        suite, tests, failed = _suite(result, report)
        root.append(suite)
        total += tests
        failures += failed
    if report.error:
        suite = ET.SubElement(root, "testsuite", name="pipeledger", tests="1", failures="0")
        suite.set("errors", "1")
        case = ET.SubElement(suite, "testcase", classname="pipeledger", name="gate")
        ET.SubElement(case, "error", message=report.error)
        total += 1
    root.set("tests", str(total))
    root.set("failures", str(failures))
    root.set("timestamp", format_time(report.generated_at))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def _suite(result: RuleResult, report: Report) -> tuple[ET.Element, int, int]:
    spec = result.spec
    suite = ET.Element("testsuite", name=spec.id)
    classname = f"pipeledger.{spec.type}"
    by_subject = {f.subject.key: f for f in result.findings}
    subjects = result.subjects or [f.subject for f in result.findings]
    failed = 0
    for subject in subjects:
        case = ET.SubElement(suite, "testcase", classname=classname, name=subject.describe())
        finding = by_subject.get(subject.key)
        if finding is None:
            continue
        if report.fail_on.fails(finding.severity):
            failure = ET.SubElement(
                case, "failure", message=finding.message, type=finding.severity.value
            )
            failure.text = f"{finding.message}\nFix: {finding.remedy}\nDocs: {finding.docs_url}"
            failed += 1
        else:
            ET.SubElement(case, "system-out").text = f"{finding.severity.value}: {finding.message}"
    if not subjects:
        case = ET.SubElement(suite, "testcase", classname=classname, name="no matching subjects")
        ET.SubElement(case, "skipped", message="nothing this rule selects was evaluated")
    suite.set("tests", str(max(len(subjects), 1)))
    suite.set("failures", str(failed))
    return suite, max(len(subjects), 1), failed

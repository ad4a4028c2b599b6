"""JUnit XML: a test suite per rule, a test case per subject it judged; findings at or
above ``--fail-on`` are failures.

Written as it is made: each test case is serialized alone by ElementTree (so escaping is
ElementTree's) and laid out as ``ET.indent`` lays out the whole document, so the pieces join
to exactly the document ElementTree would write for the whole tree — without holding a tree
of every subject of every rule (700 MB for an audit of 1,000,000 events)."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterator

from pipeledger.events import format_time
from pipeledger.policy.engine import RuleResult
from pipeledger.policy.model import Finding, Subject
from pipeledger.report.model import Report

DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
INDENT = "  "
_SPLIT = "pipeledger-split-here"
PER_CHUNK = 500


def render(report: Report) -> str:
    return "".join(render_chunks(report))


def render_chunks(report: Report) -> Iterator[str]:
    suites = [_Suite(result, report) for result in report.results]
    total = sum(suite.tests for suite in suites) + (1 if report.error else 0)
    root = ET.Element("testsuites", name=f"pipeledger {report.command}")
    root.set("tests", str(total))
    root.set("failures", str(sum(suite.failed for suite in suites)))
    root.set("timestamp", format_time(report.generated_at))
    if not suites and not report.error:
        yield DECLARATION + ET.tostring(root, encoding="unicode") + "\n"
        return
    yield DECLARATION + _open_tag(root)
    for number, suite in enumerate(suites, start=1):
        last = number == len(suites) and not report.error
        yield "\n" + INDENT
        yield from suite.pieces()
        if last:
            yield "\n"
    if report.error:
        yield "\n" + INDENT + _error_suite(report.error) + "\n"
    yield "</testsuites>\n"


class _Suite:
    """One rule's suite: its counts first (the start tag carries them), its cases later."""

    def __init__(self, result: RuleResult, report: Report) -> None:
        self.spec = result.spec
        self.fail_on = report.fail_on
        self.by_subject = {f.subject.key: f for f in result.findings}
        self.subjects: list[Subject] = result.subjects or [f.subject for f in result.findings]
        self.tests = max(len(self.subjects), 1)
        self.failed = sum(
            1
            for subject in self.subjects
            if (finding := self.by_subject.get(subject.key)) is not None
            and self.fail_on.fails(finding.severity)
        )

    def pieces(self) -> Iterator[str]:
        suite = ET.Element("testsuite", name=self.spec.id)
        suite.set("tests", str(self.tests))
        suite.set("failures", str(self.failed))
        yield _open_tag(suite)
        classname = f"pipeledger.{self.spec.type}"
        if not self.subjects:
            yield _case_text(_no_subjects(classname), last=True)
        count = len(self.subjects)
        for start in range(0, count, PER_CHUNK):
            chunk = self.subjects[start : start + PER_CHUNK]
            yield "".join(
                _case_text(
                    self._case(classname, subject, self.by_subject.get(subject.key)),
                    last=start + index == count - 1,
                )
                for index, subject in enumerate(chunk)
            )
        yield "</testsuite>"

    def _case(self, classname: str, subject: Subject, finding: Finding | None) -> ET.Element:
        case = ET.Element("testcase", classname=classname, name=subject.describe())
        if finding is None:
            return case
        if self.fail_on.fails(finding.severity):
            failure = ET.SubElement(
                case, "failure", message=finding.message, type=finding.severity.value
            )
            failure.text = f"{finding.message}\nFix: {finding.remedy}\nDocs: {finding.docs_url}"
        else:
            ET.SubElement(case, "system-out").text = f"{finding.severity.value}: {finding.message}"
        return case


def _case_text(case: ET.Element, *, last: bool) -> str:
    """A test case at depth 2, as ``ET.indent`` of the whole document lays it out."""
    ET.indent(case, space=INDENT, level=2)
    return (
        "\n"
        + INDENT * 2
        + ET.tostring(case, encoding="unicode")
        + ("" if not last else "\n" + INDENT)
    )


def _no_subjects(classname: str) -> ET.Element:
    case = ET.Element("testcase", classname=classname, name="no matching subjects")
    ET.SubElement(case, "skipped", message="nothing this rule selects was evaluated")
    return case


def _error_suite(error: str) -> str:
    suite = ET.Element("testsuite", name="pipeledger", tests="1", failures="0")
    suite.set("errors", "1")
    case = ET.SubElement(suite, "testcase", classname="pipeledger", name="gate")
    ET.SubElement(case, "error", message=error)
    ET.indent(suite, space=INDENT, level=1)
    return ET.tostring(suite, encoding="unicode")


def _open_tag(element: ET.Element) -> str:
    """``<tag attr="…">`` exactly as ElementTree writes it before a child."""
    probe = ET.Element(element.tag, element.attrib)
    ET.SubElement(probe, _SPLIT)
    return ET.tostring(probe, encoding="unicode").split(f"<{_SPLIT}")[0]

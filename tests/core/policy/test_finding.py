"""A finding stores its rule's facts once per rule and its evidence ids packed, and reads
back exactly what it was given."""

from __future__ import annotations

import dataclasses
import pickle
import tracemalloc

import pytest

from pipeledger.policy.model import Finding, Severity, Subject

SUBJECT = Subject(
    kind="deployment",
    key="42",
    repository="acme/api",
    environment="production",
    ref="refs/heads/main",
    sha="0" * 40,
    run_id="7",
    url="https://github.com/acme/api/actions/runs/7",
)
ID_A = "1180a6d31d46ebe8053c4615fe243932"
ID_B = "d9cd16d59c21c1d869d21d3fc75e8018"


def finding(
    evidence: tuple[str, ...] = (ID_A, ID_B),
    links: tuple[str, ...] = (SUBJECT.url or "",),
    subject: Subject = SUBJECT,
    remedy: str = "Approve it.",
) -> Finding:
    return Finding(
        rule_id="prod-approval",
        rule_type="require-approval",
        severity=Severity.ERROR,
        message="The deployment to production needs 1 independent approval(s) and has 0.",
        subject=subject,
        evidence=evidence,
        links=links,
        remedy=remedy,
        docs_url="https://pipeledger.dev/docs/policies/require-approval/",
        rule_line=5,
    )


@pytest.mark.parametrize(
    ("evidence", "links"),
    [
        ((ID_A, ID_B), (SUBJECT.url,)),  # packed: ids as bytes, the link is the subject's
        ((ID_A,), ()),  # packed, no link
        ((), ()),
        ((ID_A.upper(),), ()),  # not the usual shape: kept as given
        (("run 7", ID_A), (SUBJECT.url,)),
        ((ID_A[:31],), ()),
        ((ID_A[:30] + " a",), ()),  # bytes.fromhex would skip the space
        ((ID_A,), ("https://example.com/other",)),
        ((ID_A,), (SUBJECT.url, "https://example.com/other")),
    ],
)
def test_evidence_and_links_read_back_as_given(
    evidence: tuple[str, ...], links: tuple[str, ...]
) -> None:
    made = finding(evidence, links)
    assert made.evidence == evidence
    assert made.links == links
    assert made.to_dict()["evidence"] == list(evidence)
    assert made.to_dict()["links"] == list(links)


def test_a_subject_without_url_keeps_its_links() -> None:
    bare = dataclasses.replace(SUBJECT, url=None)
    assert finding(links=(), subject=bare).links == ()
    assert finding(links=("https://x.example/1",), subject=bare).links == ("https://x.example/1",)


def test_a_finding_is_a_frozen_value() -> None:
    one, same, other = finding(), finding(), finding(remedy="Ask someone else.")
    assert one == same and hash(one) == hash(same)
    assert one != other and other.remedy == "Ask someone else."
    assert one.rule_id == "prod-approval" and one.severity is Severity.ERROR
    assert one.rule_line == 5 and one.rule_type == "require-approval"
    assert pickle.loads(pickle.dumps(one)) == one
    assert repr(one).startswith("Finding(rule_id='prod-approval', rule_type='require-approval',")
    with pytest.raises(dataclasses.FrozenInstanceError):
        one.message = "changed"  # type: ignore[misc]


def test_findings_are_small() -> None:
    """A finding is four references, and its evidence ids are 16 bytes each rather than
    strings of 32 characters the finding would keep alive (the events they came from are
    long gone in a streaming audit). Measured here, per finding, without its message and
    subject: 385 bytes with ten fields and tuples of strings, 138 now."""
    count = 2000
    subjects = [dataclasses.replace(SUBJECT, key=str(n)) for n in range(count)]
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        made = [
            finding((f"{n:032x}", f"{n + count:032x}"), (SUBJECT.url or "",), subjects[n])
            for n in range(count)
        ]
        held = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert len(made) == count
    assert held / count < 160, f"{held / count:.0f} bytes a finding"


def test_findings_that_say_the_same_share_their_message() -> None:
    texts = ["".join(["dev4 weakened ", "the branch protection of main."]) for _ in range(2)]
    assert texts[0] is not texts[1]
    one, two = (
        Finding(
            rule_id="drift",
            rule_type="protection-drift",
            severity=Severity.ERROR,
            message=text,
            subject=SUBJECT,
            evidence=(),
            links=(),
            remedy="Restore it.",
            docs_url="https://pipeledger.dev/docs/policies/protection-drift/",
            rule_line=9,
        )
        for text in texts
    )
    assert one.message is two.message
    assert one._rule is two._rule  # the rule's facts too

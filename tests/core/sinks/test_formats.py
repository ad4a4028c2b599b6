"""OCSF 1.8 and ECS output: every kind maps to a class whose required attributes are there."""

from __future__ import annotations

import pytest

from pipeledger.events import UNKNOWN_ACTOR, Actor, ActorType, EventKind, canonical_json
from pipeledger.formats import RecordSchema, render
from pipeledger.formats.ecs import to_ecs
from pipeledger.formats.ocsf import to_ocsf
from tests.core.sinks.records import chain, make_event

# Required attributes per OCSF class (base event + class), and the activity ids each allows.
BASE_REQUIRED = (
    "class_uid",
    "category_uid",
    "activity_id",
    "type_uid",
    "time",
    "severity_id",
    "metadata",
)
CLASS_REQUIRED = {
    6003: ("actor", "api", "src_endpoint"),
    3005: ("user",),
    3006: ("group",),
    2003: ("finding_info", "compliance"),
}
ACTIVITIES = {
    6003: {0, 1, 2, 3, 4, 99},
    3005: {0, 1, 2, 3, 4, 99},
    3006: {0, 1, 2, 3, 4, 99},
    2003: {0, 1, 2, 3, 99},
}
SEVERITIES = {0, 1, 2, 3, 4, 5, 6, 99}
# ECS: event.type values allowed with each event.category.
ECS_TYPES = {
    "api": {
        "access",
        "admin",
        "allowed",
        "change",
        "creation",
        "deletion",
        "denied",
        "end",
        "info",
        "start",
        "user",
    },
    "configuration": {"access", "change", "creation", "deletion", "info"},
    "iam": {"admin", "change", "creation", "deletion", "group", "info", "user"},
    "process": {"access", "change", "end", "info", "start"},
}

SAMPLES = {
    "run": make_event(1, EventKind.PIPELINE_RUN, action="completed", outcome="failure"),
    "deployment": make_event(2, EventKind.DEPLOYMENT),
    "approval": make_event(3, EventKind.DEPLOYMENT_APPROVAL, action="approved", outcome=None),
    "review": make_event(4, EventKind.CHANGE_REVIEW, action="changes_requested", outcome=None),
    "grant": make_event(
        5,
        EventKind.PERMISSION_CHANGE,
        action="granted",
        target={"type": "user", "login": "mallory", "id": "77"},
        change={"from": "write", "to": "admin"},
    ),
    "team": make_event(
        6,
        EventKind.PERMISSION_CHANGE,
        action="revoked",
        target={"type": "team", "slug": "deployers", "id": "9"},
        change={"from": "maintain", "to": None},
    ),
    "member": make_event(
        7,
        EventKind.PERMISSION_CHANGE,
        action="added",
        target={"type": "team", "slug": "admins", "user": {"login": "eve", "id": "5"}},
    ),
    "snapshot": make_event(
        8,
        EventKind.PERMISSION_CHANGE,
        action="granted",
        actor=UNKNOWN_ACTOR,
        target={"type": "user"},
    ),
    "protection": make_event(9, EventKind.PROTECTION_CHANGE, action="weakened", outcome=None),
    "gate_fail": make_event(
        10,
        EventKind.GATE_DECISION,
        action="evaluated",
        outcome="fail",
        attributes={"policy": "policies/prod.yml"},
    ),
    "gate_pass": make_event(11, EventKind.GATE_DECISION, action="evaluated", outcome="pass"),
    "bot": make_event(
        12,
        EventKind.PIPELINE_RUN,
        actor=Actor(login="dependabot[bot]", id="49699333", type=ActorType.BOT),
    ),
}
RECORDS = dict(zip(SAMPLES, chain(list(SAMPLES.values())), strict=True))


@pytest.mark.parametrize("name", list(SAMPLES))
def test_ocsf_has_every_required_attribute(name: str) -> None:
    record = RECORDS[name]
    document = to_ocsf(record)
    class_uid = document["class_uid"]

    for attribute in BASE_REQUIRED + CLASS_REQUIRED[class_uid]:
        assert document.get(attribute) not in (None, "", [], {}), attribute
    assert document["category_uid"] == class_uid // 1000
    assert document["type_uid"] == class_uid * 100 + document["activity_id"]
    assert document["activity_id"] in ACTIVITIES[class_uid]
    assert document["severity_id"] in SEVERITIES
    assert document["time"] == int(record.event.occurred_at.timestamp() * 1000)
    metadata = document["metadata"]
    assert metadata["version"] == "1.8.0"
    assert metadata["product"]["name"] == "pipeledger" and metadata["product"]["vendor_name"]
    assert metadata["uid"] == record.event.id
    assert document["unmapped"]["pipeledger"]["hash"] == record.hash
    canonical_json(document)  # JSON-ready


@pytest.mark.parametrize("name", list(SAMPLES))
def test_ocsf_objects_meet_their_constraints(name: str) -> None:
    document = to_ocsf(RECORDS[name])
    for key in ("user", "group"):
        if key in document:
            assert {"name", "uid"} & set(document[key]), key
    if "actor" in document:
        assert {"user", "app_name"} & set(document["actor"])
        if "user" in document["actor"]:
            assert {"name", "uid"} & set(document["actor"]["user"])
    if document["class_uid"] == 3006:
        assert "privileges" in document or "user" in document
    if document["class_uid"] == 6003:
        assert document["api"]["operation"]
        assert document["src_endpoint"]["hostname"] == "github.com"


EXPECTED_CLASSES = {
    "run": (6003, 1, 2),  # class, activity, status_id
    "approval": (6003, 1, 1),
    "review": (6003, 1, 2),
    "protection": (6003, 3, 0),
    "grant": (3005, 1, 1),
    "team": (3006, 2, 1),
    "member": (3006, 3, 1),
    "gate_fail": (2003, 1, 1),
}


@pytest.mark.parametrize(("name", "expected"), EXPECTED_CLASSES.items())
def test_ocsf_class_activity_and_status(name: str, expected: tuple[int, int, int]) -> None:
    document = to_ocsf(RECORDS[name])
    assert (document["class_uid"], document["activity_id"], document["status_id"]) == expected


def test_ocsf_permission_details() -> None:
    grant = to_ocsf(RECORDS["grant"])
    assert grant["user"] == {"name": "mallory", "uid": "77"}
    assert grant["privileges"] == ["admin"]
    assert grant["actor"]["user"] == {"name": "octocat", "uid": "1", "type_id": 1, "type": "User"}
    team = to_ocsf(RECORDS["team"])
    assert team["group"] == {"name": "deployers", "uid": "9"} and team["privileges"] == ["maintain"]
    assert to_ocsf(RECORDS["snapshot"])["actor"] == {"app_name": "github"}
    assert to_ocsf(RECORDS["bot"])["actor"]["user"]["type_id"] == 4


def test_ocsf_gate_decision_is_a_compliance_finding() -> None:
    failed = to_ocsf(RECORDS["gate_fail"])
    assert failed["compliance"]["status_id"] == 3 and failed["compliance"]["status"] == "Fail"
    assert failed["compliance"]["control"] == "policies/prod.yml"
    assert failed["severity_id"] == 4
    assert failed["finding_info"]["uid"] == RECORDS["gate_fail"].event.id
    passed = to_ocsf(RECORDS["gate_pass"])
    assert passed["compliance"]["status_id"] == 1 and passed["severity_id"] == 1


@pytest.mark.parametrize("name", list(SAMPLES))
def test_ecs_categorization_uses_allowed_values(name: str) -> None:
    record = RECORDS[name]
    document = to_ecs(record)
    event = document["event"]

    assert document["@timestamp"] == record.event.to_dict()["occurred_at"]
    assert event["kind"] == "event" and event["id"] == record.event.id
    (category,) = event["category"]
    assert set(event["type"]) <= ECS_TYPES[category]
    assert event["outcome"] in ("success", "failure", "unknown")
    assert document["pipeledger"] == record.to_dict()
    assert document["labels"]["repository"] == "octo-org/api"


def test_ecs_users_and_outcomes() -> None:
    grant = to_ecs(RECORDS["grant"])
    assert grant["user"] == {
        "name": "octocat",
        "id": "1",
        "target": {"name": "mallory", "id": "77"},
    }
    assert grant["related"]["user"] == ["mallory", "octocat"]
    assert grant["event"]["category"] == ["iam"] and grant["event"]["type"] == ["change", "user"]
    assert to_ecs(RECORDS["review"])["event"]["type"] == ["denied"]
    assert to_ecs(RECORDS["approval"])["event"]["outcome"] == "success"
    assert (
        "user" not in to_ecs(RECORDS["snapshot"])
        or "name" not in to_ecs(RECORDS["snapshot"])["user"]
    )


def test_render_native_is_the_ledger_record() -> None:
    record = RECORDS["run"]
    assert render(record, RecordSchema.NATIVE) == record.to_dict()
    assert render(record, RecordSchema.parse("OCSF"))["class_uid"] == 6003
    assert RecordSchema.parse(None) is RecordSchema.NATIVE

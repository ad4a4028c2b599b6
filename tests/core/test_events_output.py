"""``pipeledger events``: the table people read (a golden file), the formats tools read,
ordering, --limit, --reverse and --deployment."""

from __future__ import annotations

import csv
import io
import json
import os
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from pipeledger.cli.events_cmd import ordered
from pipeledger.cli.main import main
from pipeledger.events import AuditEvent, EventKind
from pipeledger.facts import current_records
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.core.policy.builders import SHA, actor, approval, deployment, make, review, run

GOLDEN = Path(__file__).resolve().parents[1] / "fixtures" / "cli" / "events-table.txt"


def history() -> list[AuditEvent]:
    """One of each kind people look for, stored out of time order on purpose."""
    grant = make(
        EventKind.PERMISSION_CHANGE,
        "grant-1",
        action="member.permission_changed",
        at="2026-03-11T09:00:00Z",
        who=actor("carol"),
        target={"type": "user", "login": "bob", "via": "team:release"},
        change={"from": "read", "to": "admin"},
    )
    protection = make(
        EventKind.PROTECTION_CHANGE,
        "prot-1",
        action="protection.weakened",
        at="2026-03-11T09:30:00Z",
        who=actor(None),
        target={"type": "branch", "name": "main", "setting": "required_approvals"},
        change={"from": 2, "to": None},
    )
    return [
        deployment("9", action="success", at="2026-03-11T10:09:00Z"),
        run("100", trigger="alice"),
        deployment("9", at="2026-03-11T10:05:00Z"),
        approval("carol"),
        review("dave", author="bob"),
        grant,
        protection,
        deployment("10", run_id="101", sha="b" * 40, ref="hotfix", at="2026-03-12T08:00:00Z"),
    ]


@pytest.fixture
def ledger(tmp_path: Path) -> str:
    sink = SqliteSink(tmp_path / "l.db")
    sink.append(history(), {})
    sink.close()
    return f"sqlite:///{tmp_path}/l.db"


def events(ledger: str, *extra: str, environ: dict[str, str] | None = None) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(["events", "--sink", ledger, *extra], environ=environ or {}, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_the_table_matches_the_golden_file(ledger: str) -> None:
    code, out, err = events(ledger)
    assert code == 0 and err == ""
    if os.environ.get("PIPELEDGER_UPDATE_GOLDEN"):
        GOLDEN.write_text(out, encoding="utf-8")
    assert out == GOLDEN.read_text(encoding="utf-8"), (
        "the events table changed; if on purpose, rerun with PIPELEDGER_UPDATE_GOLDEN=1"
    )


def test_the_table_is_plain_text_off_a_terminal(ledger: str) -> None:
    _, out, _ = events(ledger)
    assert "\x1b[" not in out
    assert "bob via team:release: read → admin" in out
    assert "branch main required_approvals: 2 → none" in out


def test_rows_are_in_time_order_whatever_the_ledger_order(ledger: str) -> None:
    _, out, _ = events(ledger, "--format", "jsonl")
    times = [json.loads(line)["occurred_at"] for line in out.splitlines()]
    assert times == sorted(times) and len(times) == 8


@pytest.mark.parametrize("extra", [(), ("--deployment", "9")])
def test_json_prints_each_event_as_stored_the_text_its_hash_covers(
    tmp_path: Path, extra: tuple[str, ...]
) -> None:
    """Every event in ``--format json``/``jsonl`` is its canonical JSON (sorted keys, compact,
    UTF-8): byte for byte the stored body whose SHA-256 the chain covers."""
    named = approval("zoë", run_id="999", environment="prod-über")
    sink = SqliteSink(tmp_path / "l.db")
    sink.append([*history(), named], {})
    stored = {json.loads(body.body)["id"]: body.body for body in sink.stored_bodies()}
    sink.close()
    url = f"sqlite:///{tmp_path}/l.db"
    _, lines, _ = events(url, "--format", "jsonl", *extra)
    _, array, _ = events(url, "--format", "json", *extra)
    printed = lines.splitlines()
    assert printed and all(line == stored[json.loads(line)["id"]] for line in printed)
    assert array == "[\n" + ",\n".join(printed) + "\n]\n"
    if not extra:
        assert "zoë" in lines and "prod-über" in lines  # UTF-8 as stored, not \u escapes


def test_limit_and_reverse(ledger: str) -> None:
    _, out, err = events(ledger, "--format", "jsonl", "--limit", "2")
    assert [json.loads(x)["occurred_at"] for x in out.splitlines()] == [
        "2026-03-10T09:00:00Z",
        "2026-03-11T09:00:00Z",
    ]
    assert "showing 2 of 8 events" in err
    _, out, _ = events(ledger, "--format", "jsonl", "--limit", "2", "--reverse")
    assert [json.loads(x)["occurred_at"] for x in out.splitlines()] == [
        "2026-03-12T08:00:00Z",
        "2026-03-11T10:09:00Z",
    ]
    _, _, err = events(ledger, "--limit", "2", "-q")
    assert err == ""


@pytest.mark.parametrize("value", ["0", "-3", "many"])
def test_a_limit_that_is_not_a_count_is_a_usage_error(ledger: str, value: str) -> None:
    code, _, err = events(ledger, "--limit", value)
    assert code == 2 and "--limit" in err


def test_json_is_one_array_and_csv_has_the_change_in_its_own_column(ledger: str) -> None:
    _, out, _ = events(ledger, "--format", "json", "--kind", "permission.change")
    [event] = json.loads(out)
    assert event["change"] == {"from": "read", "to": "admin"}
    _, out, _ = events(ledger, "--format", "csv", "--kind", "permission.change")
    [row] = list(csv.DictReader(io.StringIO(out)))
    assert (row["subject"], row["change"], row["actor"]) == (
        "bob via team:release",
        "read → admin",
        "carol",
    )
    assert row["id"] == event["id"]


@pytest.mark.parametrize(
    "name",
    [
        "9",
        "octo-org/octo-repo#9",
        f"octo-org/octo-repo@{SHA[:7]}",
        "https://github.com/octo-org/octo-repo/actions/runs/100",
        "https://github.com/octo-org/octo-repo/actions/runs/100/attempts/1",
    ],
)
def test_deployment_selects_one_deployment_by_any_of_its_names(ledger: str, name: str) -> None:
    code, out, err = events(ledger, "--deployment", name, "--format", "jsonl")
    assert code == 0, err
    kinds = sorted(json.loads(line)["kind"] for line in out.splitlines())
    assert kinds == [
        "change.review",
        "deployment",
        "deployment",
        "deployment.approval",
        "pipeline.run",
    ]


def test_deployment_combines_with_the_other_filters(ledger: str) -> None:
    _, out, _ = events(ledger, "--deployment", "9", "--actor", "carol", "--format", "jsonl")
    assert [json.loads(line)["kind"] for line in out.splitlines()] == ["deployment.approval"]


def test_an_unknown_deployment_is_a_usage_error(ledger: str) -> None:
    code, _, err = events(ledger, "--deployment", "octo-org/octo-repo@deadbee")
    assert code == 2 and "No deployment 'octo-org/octo-repo@deadbee' in the ledger" in err


def test_no_match_says_so_on_stderr_only(ledger: str) -> None:
    code, out, err = events(ledger, "--actor", "nobody")
    assert (code, out) == (0, "") and err == "pipeledger: no events match.\n"


def test_provenance_takes_the_same_names(ledger: str) -> None:
    out, err = io.StringIO(), io.StringIO()
    name = "https://github.com/octo-org/octo-repo/actions/runs/100"
    code = main(
        ["provenance", name, "--sink", ledger, "--format", "json"],
        environ={},
        stdout=out,
        stderr=err,
    )
    assert code == 0, err.getvalue()
    assert json.loads(out.getvalue())["deployment"]["id"] == "9"


def test_a_commit_deployed_twice_lists_both(tmp_path: Path) -> None:
    sink = SqliteSink(tmp_path / "two.db")
    sink.append([deployment("1", environment="staging"), deployment("2", run_id="101")], {})
    sink.close()
    code, _, err = events(
        f"sqlite:///{tmp_path}/two.db", "--deployment", f"octo-org/octo-repo@{SHA}"
    )
    assert code == 2
    assert "names 2 deployments: octo-org/octo-repo#1 (staging), octo-org/octo-repo#2" in err
    assert "Name one of them as OWNER/REPO#ID." in err


def test_hostile_text_from_an_api_cannot_drive_the_terminal(tmp_path: Path) -> None:
    hostile = make(
        EventKind.PERMISSION_CHANGE,
        "hostile",
        action="member.added",
        at="2026-03-11T09:00:00Z",
        who=actor("mallory"),
        target={"type": "user", "login": "eve\x1b]0;pwned\x07\n::stop-commands::x"},
    )
    sink = SqliteSink(tmp_path / "h.db")
    sink.append([hostile], {})
    sink.close()
    for output in ("table", "csv", "jsonl", "json"):
        _, out, _ = events(f"sqlite:///{tmp_path}/h.db", "--format", output)
        assert "\x1b" not in out and "\x07" not in out, output
        assert "\n::stop-commands" not in out, output
    _, table, _ = events(f"sqlite:///{tmp_path}/h.db")
    assert "eve\\x1b]0;pwned\\x07\\n::stop-commands::x" in table


def test_a_secret_in_an_event_is_masked_in_every_format(tmp_path: Path) -> None:
    leaky = make(
        EventKind.PIPELINE_RUN,
        "leaky",
        action="completed",
        at="2026-03-11T09:00:00Z",
        who=actor("alice"),
        attributes={"workflow": "deploy with s3cr3t-value-123"},
    )
    sink = SqliteSink(tmp_path / "s.db")
    sink.append([leaky], {})
    sink.close()
    for output in ("table", "csv", "jsonl"):
        _, out, _ = events(
            f"sqlite:///{tmp_path}/s.db",
            "--format",
            output,
            environ={"API_TOKEN": "s3cr3t-value-123"},
        )
        assert "s3cr3t-value-123" not in out and "deploy with" in out, output


@pytest.mark.parametrize(
    "extra", [(), ("--reverse",), ("--limit", "3"), ("--reverse", "--limit", "2"), ("--all",)]
)
def test_json_is_read_from_the_stored_bodies_exactly_as_from_events(
    tmp_path: Path, extra: tuple[str, ...]
) -> None:
    """``--format json``/``jsonl`` print the stored JSON without building events; the result
    is what ordering the events and printing ``to_dict()`` gives, superseded facts and ties
    in time (broken by ledger order, also within one second) included."""
    base = history()
    second = base[1].occurred_at
    ties = [
        replace(run(f"tie-{n}"), id=f"{n}" * 32, occurred_at=second + timedelta(microseconds=m))
        for n, m in enumerate((250_000, 0, 250_100, 0))
    ]
    replaced = base[5]
    fact = replace(replaced, id="f" * 32, supersedes=(replaced.id,))
    sink = SqliteSink(tmp_path / "l.db")
    sink.append([*base, *ties, fact], {})
    records = current_records(sink, EventFilter(), include_superseded="--all" in extra)
    expected = ordered(
        [r.event for r in records],
        limit=int(extra[-1]) if "--limit" in extra else None,
        newest_first="--reverse" in extra,
    )
    sink.close()
    url = f"sqlite:///{tmp_path}/l.db"
    _, out, _ = events(url, "--format", "json", *extra)
    assert json.loads(out) == [event.to_dict() for event in expected]
    assert len(expected) >= 2
    _, lines, _ = events(url, "--format", "jsonl", *extra)
    assert [json.loads(line) for line in lines.splitlines()] == json.loads(out)

"""What a complete collection of a fake GitHub org must put in the ledger, and what it did."""

from __future__ import annotations

import io
import sqlite3
from collections import Counter
from pathlib import Path

from pipeledger.cli.main import main
from pipeledger.events import AuditEvent, EventKind
from pipeledger.sinks.contract import EventFilter
from pipeledger_sqlite.sink import SqliteSink
from tests.fakes.github_data import FakeOrg, FakeRepo

Row = tuple[str, ...]


def expected(org: FakeOrg) -> dict[EventKind, Counter[Row]]:
    runs: Counter[Row] = Counter()
    deployments: Counter[Row] = Counter()
    approvals: Counter[Row] = Counter()
    reviews: Counter[Row] = Counter()
    for repo in org.repos.values():
        for run in repo.runs.values():
            runs[
                (
                    str(run.id),
                    str(run.run_attempt),
                    run.status,
                    run.triggering_actor.login,
                    run.actor.login,
                    str(run.conclusion or ""),
                    full_ref(repo, run.head_branch, run.head_sha),
                )
            ] += 1
        for dep in repo.deployments.values():
            ref = full_ref(repo, dep.ref, dep.sha)
            deployments[(str(dep.id), "created", str(dep.run_id or ""), ref)] += 1
            for status in dep.statuses:
                deployments[(str(dep.id), status.state, str(dep.run_id or ""), ref)] += 1
            for number in repo.commit_pulls.get(dep.sha, []):
                pull = repo.pulls[number]
                if pull.merged_at is None or pull.merge_commit_sha != dep.sha:
                    continue
                for review in pull.reviews:
                    reviews[
                        (str(number), review.user.login, review.state.lower(), str(dep.id))
                    ] += 1
        for run_id, items in repo.approvals.items():
            run = repo.runs[run_id]
            ref = full_ref(repo, run.head_branch, run.head_sha)
            for approval in items:
                for environment in approval.environments:
                    approvals[
                        (str(run_id), approval.user.login, approval.state, environment, ref)
                    ] += 1
    return {
        EventKind.PIPELINE_RUN: runs,
        EventKind.DEPLOYMENT: deployments,
        EventKind.DEPLOYMENT_APPROVAL: approvals,
        EventKind.CHANGE_REVIEW: reviews,
    }


def full_ref(repo: FakeRepo, name: str, sha: str) -> str:
    """GitHub names a tag push by the bare tag name: it is the tag when the repository has a
    tag of that name on that commit, otherwise a branch."""
    return f"refs/tags/{name}" if repo.tags.get(name) == sha else f"refs/heads/{name}"


def row(event: AuditEvent) -> Row:
    c = event.correlation
    if event.kind is EventKind.PIPELINE_RUN:
        return (
            c["run_id"],
            c["run_attempt"],
            event.action,
            str(event.actor.login),
            str(event.attributes.get("initial_actor")),
            event.outcome or "",
            str(event.ref),
        )
    if event.kind is EventKind.DEPLOYMENT:
        return (c["deployment_id"], event.action, c.get("run_id", ""), str(event.ref))
    if event.kind is EventKind.DEPLOYMENT_APPROVAL:
        return (
            c["run_id"],
            str(event.actor.login),
            event.action,
            str(event.scope.environment),
            str(event.ref),
        )
    return (c["pull_request"], str(event.actor.login), event.action, c["deployment_id"])


def collected(db: Path) -> dict[EventKind, Counter[Row]]:
    sink = SqliteSink(db)
    try:
        result: dict[EventKind, Counter[Row]] = {kind: Counter() for kind in expected_kinds()}
        for record in sink.records(EventFilter()):
            result[record.event.kind][row(record.event)] += 1
        return result
    finally:
        sink.close()


def expected_kinds() -> tuple[EventKind, ...]:
    return (
        EventKind.PIPELINE_RUN,
        EventKind.DEPLOYMENT,
        EventKind.DEPLOYMENT_APPROVAL,
        EventKind.CHANGE_REVIEW,
    )


def event_count(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT count(*) FROM events").fetchone()[0])


def run_cli(argv: list[str], environ: dict[str, str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(argv, environ=environ, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def github_collect_argv(api_url: str, db: Path, *extra: str) -> list[str]:
    """``collect`` of the fake organization ``acme`` since 2025 into an SQLite ledger."""
    return [
        "collect",
        "--platform",
        "github",
        "--api-url",
        api_url,
        "--org",
        "acme",
        "--since",
        "2025-01-01",
        "--sink",
        f"sqlite:///{db}",
        *extra,
    ]

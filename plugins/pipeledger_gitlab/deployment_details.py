"""The approvals of a page of listed deployments. GitLab's deployment list lacks them; REST has
them only in one ``GET /deployments/:id`` per deployment (Premium). GraphQL asks for ``BATCH``
of them in one request (aliased ``Project.deployment(iid:)``), so a page of 100 costs 6
requests instead of 100.

What is read is only ``Deployment.approvals``, made into REST's ``approvals`` list: the
normalizer reads no other field of the detail, and REST's ``approval_summary`` adds no
approval that ``approvals`` lacks (GraphQL's ``approvalSummary`` can be read for one
deployment per request only). GraphQL's times are whole seconds (GitLab's ``Time`` type); an
approval's event is dated to the second however it was read (see
``normalize.pipelines.deployment_approval_events``), so both ways give the same events.

REST stays the fallback, per deployment, for any deployment not answered here: a job token
or an API root not at ``/api/v4``, an instance without GraphQL (or without the Premium field
``approvals``: a query that fails as a whole switches GraphQL off for the rest of the run),
and a batch whose answer is not exactly what was asked (errors, a missing or malformed
field). The answers say nothing about the tier: GitLab.com's Free namespaces have the field
and answer an empty list, so the caller decides that from the protected environments API.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pipeledger_gitlab.client import GitLabClient
from pipeledger_gitlab.graphql_batch import (
    aliased_query,
    positive_int,
    project_of,
    read_nodes,
    rest_user,
)
from pipeledger_gitlab.normalize.pipelines import ProjectRef

Json = Mapping[str, Any]

# Each deployment below costs 10 points (deployment, iid, approvals, status, comment,
# createdAt, user and its three fields; a plain list is not multiplied like a connection), so
# 18 cost 181 with the project (see graphql_batch).
BATCH = 18
FRAGMENT = (
    "fragment Approvals on Deployment {"
    " iid approvals { status comment createdAt user { id username name } } }"
)
_STATUSES = {"APPROVED": "approved", "REJECTED": "rejected"}


def deployments_query(iids: Sequence[int]) -> str:
    """One aliased ``deployment(iid:)`` per deployment of a project, ``d0`` … ``dN``."""
    return aliased_query("deployment", "d", FRAGMENT, iids)


class DeploymentDetails:
    def __init__(self, client: GitLabClient) -> None:
        self._client = client
        # Off for the rest of the run once GraphQL fails a whole query (no GraphQL here, no
        # ``approvals`` on this edition, a limit): every later query would fail alike.
        self._graphql = client.speaks_graphql

    @property
    def on(self) -> bool:
        return self._graphql

    def read(self, project: ProjectRef, listed: Sequence[Json]) -> dict[int, Json | None]:
        """Deployment id -> the listed deployment with its ``approvals`` in REST's shape, or
        None for one deleted since it was listed; a deployment left out is for REST to read."""
        read: dict[int, Json | None] = {}
        for batch in self.batches(project, listed):
            read.update(batch)
        return read

    def batches(
        self, project: ProjectRef, listed: Sequence[Json]
    ) -> Iterator[dict[int, Json | None]]:
        """``read``, one query's answer at a time (the caller may stop early); an empty
        answer for a batch REST reads."""
        askable = [item for item in listed if positive_int(item.get("iid")) and _id(item)]
        for start in range(0, len(askable), BATCH):
            if not self._graphql:
                return
            yield self._batch(project, askable[start : start + BATCH])

    def _batch(self, project: ProjectRef, batch: Sequence[Json]) -> dict[int, Json | None]:
        query = deployments_query([int(item["iid"]) for item in batch])
        found = project_of(self._client.graphql(query, {"path": project.full_path}))
        if found is None:
            self._graphql = False
            return {}
        details = read_nodes(found, "d", batch, _detail)
        if details is None:
            return {}  # not what was asked: REST reads this batch
        # None: deleted since it was listed.
        return {_id(item): detail for item, detail in zip(batch, details, strict=True)}


def _id(item: Json) -> int:
    return positive_int(item.get("id")) or 0


def _detail(item: Json, node: Any) -> Json | None:
    """The listed deployment with REST's ``approvals``; None when the node is not what was
    asked for."""
    if not isinstance(node, Mapping) or node.get("iid") != str(item.get("iid")):
        return None
    approvals = node.get("approvals")
    if not isinstance(approvals, list):
        return None  # null included: REST says what that means
    rest = [_approval(approval) for approval in approvals]
    if None in rest:
        return None
    return {**item, "approvals": rest}


def _approval(approval: Any) -> dict[str, Any] | None:
    """``{status: APPROVED, comment, createdAt, user: UserCore}`` as REST shows it:
    ``{user: {id: 7, username, name}, status: "approved", created_at, comment}``."""
    if not isinstance(approval, Mapping):
        return None
    status = _STATUSES.get(str(approval.get("status")))
    created, comment = approval.get("createdAt"), approval.get("comment")
    user = approval.get("user")
    as_rest = None if user is None else rest_user(user)
    if status is None or not isinstance(created, str) or not isinstance(comment, (str, type(None))):
        return None
    if user is not None and as_rest is None:
        return None
    return {"user": as_rest, "status": status, "created_at": created, "comment": comment}

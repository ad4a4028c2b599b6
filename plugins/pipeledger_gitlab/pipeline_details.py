"""A page of listed pipelines made whole. GitLab's pipeline list lacks who started each
pipeline, whether its ref is a tag, and when it started and finished; REST has them only
in one ``GET /pipelines/:id`` per pipeline. GraphQL asks for ``BATCH`` of them in one request
(aliased ``Project.pipeline(iid:)``), so a page of 100 costs 5 requests instead of 100.

REST stays the fallback, per batch: for a job token or an API root not at ``/api/v4``, on an
instance without GraphQL, and for any answer that is not exactly what was asked (errors, a
missing or malformed field). GraphQL's times are whole seconds (GitLab's ``Time`` type), so
a pipeline's ``started_at``/``finished_at`` read this way lose their milliseconds; event ids
do not depend on time, so a pipeline read both ways is still one event.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

from pipeledger_gitlab.client import GitLabClient, GitLabNotFound
from pipeledger_gitlab.graphql_batch import (
    aliased_query,
    positive_int,
    project_of,
    read_nodes,
    rest_user,
)
from pipeledger_gitlab.normalize.pipelines import ProjectRef

Json = Mapping[str, Any]

# Each pipeline below costs 9 points (pipeline, iid, startedAt, finishedAt, refPath, user and
# its three fields), so 20 cost 181 with the project (see graphql_batch).
BATCH = 20
FRAGMENT = (
    "fragment Detail on Pipeline { iid startedAt finishedAt refPath user { id username name } }"
)
_TIME = (str, type(None))


def pipelines_query(iids: Sequence[int]) -> str:
    """One aliased ``pipeline(iid:)`` per pipeline of a project, ``p0`` … ``pN``."""
    return aliased_query("pipeline", "p", FRAGMENT, iids)


class PipelineDetails:
    def __init__(self, client: GitLabClient) -> None:
        self._client = client
        # Off for the rest of the run once GraphQL fails a whole query (no GraphQL here, a
        # field this version lacks, a limit): every later query would fail alike.
        self._graphql = client.speaks_graphql

    def complete(self, project: ProjectRef, path: str, listed: Sequence[Json]) -> list[Json]:
        """The listed pipelines with their detail, in list order; one deleted since it was
        listed is left out."""
        details: list[Json] = []
        for start in range(0, len(listed), BATCH):
            batch = listed[start : start + BATCH]
            answered = self._by_graphql(project, batch)
            if answered is None:
                answered = list(self._by_rest(path, batch))
            details += answered
        return details

    def _by_graphql(self, project: ProjectRef, batch: Sequence[Json]) -> list[Json] | None:
        iids = [positive_int(item.get("iid")) for item in batch]
        if not self._graphql or None in iids:
            return None
        query = pipelines_query([iid for iid in iids if iid is not None])
        found = project_of(self._client.graphql(query, {"path": project.full_path}))
        if found is None:
            self._graphql = False
            return None
        details = read_nodes(found, "p", batch, _detail)
        # A pipeline deleted since it was listed (retention, a user) is left out.
        return None if details is None else [d for d in details if d is not None]

    def _by_rest(self, path: str, batch: Sequence[Json]) -> Iterator[Json]:
        for item in batch:
            try:
                yield self._client.get_object(f"{path}/{item['id']}")
            except GitLabNotFound:
                continue  # deleted since it was listed


def _detail(item: Json, node: Any) -> Json | None:
    """The listed pipeline with what REST's detail adds, in REST's shape; None when the node
    is not what was asked for."""
    if not isinstance(node, Mapping) or node.get("iid") != str(item.get("iid")):
        return None
    started, finished, ref_path = node.get("startedAt"), node.get("finishedAt"), node.get("refPath")
    if not all(isinstance(value, _TIME) for value in (started, finished, ref_path)):
        return None
    user = node.get("user")
    as_rest = None if user is None else rest_user(user)
    if user is not None and as_rest is None:
        return None
    return {
        **item,
        "user": as_rest,
        "tag": isinstance(ref_path, str) and ref_path.startswith("refs/tags/"),
        "started_at": started,
        "finished_at": finished,
    }

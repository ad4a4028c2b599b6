"""A GraphQL request body answered as the forges answer it: HTTP 200, with ``errors`` (and no
``data``) for a query the schema refuses."""

from __future__ import annotations

from typing import Any

from graphql import GraphQLSchema, graphql_sync

JSON = dict[str, Any]


def answer(schema: GraphQLSchema, document: Any, root: JSON, no_query: str) -> JSON:
    """``document`` is the request's JSON body; ``no_query`` the forge's words for a body
    without a query string."""
    if not isinstance(document, dict) or not isinstance(document.get("query"), str):
        return {"errors": [{"message": no_query}]}
    variables = document.get("variables")
    result = graphql_sync(
        schema,
        document["query"],
        root_value=root,
        variable_values=variables if isinstance(variables, dict) else None,
    )
    reply: JSON = {}
    if result.errors:
        reply["errors"] = [{"message": error.message} for error in result.errors]
    if result.data is not None:
        reply["data"] = result.data
    return reply

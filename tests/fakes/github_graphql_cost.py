"""What GitHub's GraphQL rate limit charges a query (``rateLimit { cost }``), computed as
GitHub documents it ("Calculating a rate limit score before running the call",
docs.github.com/graphql/overview/rate-limits-and-query-limits-for-the-graphql-api): every
connection is assumed to return as many nodes as its ``first``/``last`` asks; a connection
costs one request per node of the connections around it (one at the top); the sum divided
by 100 and rounded is the score, at least 1. The fake GitHub adds it up per query for the
benchmarks, which report GraphQL in points as GitHub counts it, not in requests."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    parse,
)


def query_cost(
    schema: GraphQLSchema, query: str, variables: Mapping[str, Any] | None = None
) -> int:
    """The score of ``query``'s first operation; the query must be valid for ``schema``."""
    document = parse(query)
    fragments = {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }
    operation = next(n for n in document.definitions if isinstance(n, OperationDefinitionNode))
    root = schema.query_type
    assert root is not None
    walk = _Walk(schema, fragments, variables or {})
    requests = walk.selections(operation.selection_set, root, parents=1)
    return max(1, round(requests / 100))


class _Walk:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: Mapping[str, FragmentDefinitionNode],
        variables: Mapping[str, Any],
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables

    def selections(self, selection_set: SelectionSetNode, parent: Any, parents: int) -> int:
        """Requests the connections under ``selection_set`` need, with ``parents`` nodes of
        the enclosing connections each asking them once."""
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.field(selection, parent, parents)
            elif isinstance(selection, InlineFragmentNode):
                condition = selection.type_condition
                kind = self.schema.get_type(condition.name.value) if condition else parent
                total += self.selections(selection.selection_set, kind, parents)
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments[selection.name.value]
                kind = self.schema.get_type(fragment.type_condition.name.value)
                total += self.selections(fragment.selection_set, kind, parents)
        return total

    def field(self, node: FieldNode, parent: Any, parents: int) -> int:
        if node.selection_set is None or not isinstance(parent, GraphQLObjectType):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:  # __typename and the like
            return 0
        kind = get_named_type(definition.type)
        size = self.page_size(node)
        if kind.name.endswith("Connection") and size is not None:
            # This connection is asked once per node around it; its own nodes ask what is
            # nested in them.
            return parents + self.selections(node.selection_set, kind, parents * size)
        return self.selections(node.selection_set, kind, parents)

    def page_size(self, node: FieldNode) -> int | None:
        for argument in node.arguments or ():
            if argument.name.value not in ("first", "last"):
                continue
            value = argument.value
            if isinstance(value, IntValueNode):
                return int(value.value)
            if isinstance(value, VariableNode):
                return int(self.variables[value.name.value])
        return None

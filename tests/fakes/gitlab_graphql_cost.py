"""What GitLab's GraphQL complexity limit scores a query (doc/api/graphql/_index.md): each
field scores 1, fragments counted where they are spread; an authenticated request may score
up to ``MAX_COMPLEXITY``. The GitLab counterpart of :mod:`tests.fakes.github_graphql_cost`."""

from __future__ import annotations

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    OperationDefinitionNode,
    SelectionSetNode,
    parse,
)

MAX_COMPLEXITY = 250


def query_complexity(query: str) -> int:
    """GitLab's base score of ``query``'s first operation."""
    document = parse(query)
    fragments = {
        node.name.value: node
        for node in document.definitions
        if isinstance(node, FragmentDefinitionNode)
    }

    def count(selections: SelectionSetNode | None) -> int:
        total = 0
        for node in selections.selections if selections else ():
            if isinstance(node, FieldNode):
                total += 1 + count(node.selection_set)
            elif isinstance(node, FragmentSpreadNode):
                total += count(fragments[node.name.value].selection_set)
        return total

    operation = next(n for n in document.definitions if isinstance(n, OperationDefinitionNode))
    return count(operation.selection_set)

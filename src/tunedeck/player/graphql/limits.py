"""What a GraphQL document may ask, checked before graphql-core validates or runs it.

Beside Strawberry's token and alias limits (see ``schema.build_schema``):

- nesting: the query text may not nest brackets deeper than :data:`MAX_NESTING`
  (checked on the tokens, before parsing: graphql-core's parser recurses per level);
- the operation to run: a document of several operations must name one in
  ``operationName``, and a name must be one of them (the GraphQL spec's GetOperation);
- depth: fields nested deeper than ``max_depth``, fragments expanded and introspection
  included (Strawberry's ``QueryDepthLimiter`` skips ``__schema``);
- cost: each field counts once per item of the lists around it (a list field's
  ``limit`` argument, its default, else :data:`DEFAULT_LIST_SIZE`), fragments expanded,
  so a fragment that doubles itself ten times is refused without being walked out.

Each refusal is a GraphQL error with ``extensions.code`` (``query_too_deep``,
``query_too_complex``, or ``graphql_invalid``) and no field runs.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Any

from graphql import (
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLList,
    GraphQLNamedType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    get_named_type,
    get_nullable_type,
)
from graphql.language import Lexer, Source, TokenKind
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension

MAX_NESTING = 64
"""Deepest bracket nesting of a query text (far past any depth the limit lets through)."""
DEFAULT_LIST_SIZE = 10
"""Items counted for a list field that has no ``limit`` argument."""
_INT_DIGITS = 10  # a GraphQL Int is 32-bit
TOO_DEEP = "query_too_deep"
TOO_COMPLEX = "query_too_complex"
_OPENING = frozenset({TokenKind.BRACE_L, TokenKind.BRACKET_L, TokenKind.PAREN_L})
_CLOSING = frozenset({TokenKind.BRACE_R, TokenKind.BRACKET_R, TokenKind.PAREN_R})
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


class DocumentLimits(SchemaExtension):
    """The checks above, on every operation (HTTP and WebSocket alike)."""

    def __init__(self, *, max_depth: int, max_cost: int, max_tokens: int) -> None:
        self.max_depth = max_depth
        self.max_cost = max_cost
        self.max_tokens = max_tokens

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # Read before parsing: once there is a document, Strawberry answers the name of
        # its first operation when the request named none.
        parsed_here = context.graphql_document is None
        requested = context.operation_name
        if context.query:
            check_nesting(context.query, self.max_tokens)
        yield
        if parsed_here and context.graphql_document is not None:
            check_operation_name(context.graphql_document.definitions, requested)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            measure = Measure(context.schema._schema, document.definitions, context.variables or {})
            error = measure.refusal(self.max_depth, self.max_cost)
            if error is not None:
                # Set before graphql-core's rules run: Strawberry then skips them.
                context.pre_execution_errors = [error]
        yield


def check_nesting(query: str, max_tokens: int) -> None:
    """Refuse a query text nesting brackets deeper than MAX_NESTING (tokens past
    ``max_tokens`` are left to the parser, which refuses the document)."""
    lexer = Lexer(Source(query))
    depth = 0
    for _ in range(max_tokens + 1):
        kind = lexer.advance().kind
        if kind is TokenKind.EOF:
            return
        if kind in _OPENING:
            depth += 1
            if depth > MAX_NESTING:
                raise GraphQLError(
                    f"The query nests deeper than {MAX_NESTING} levels.",
                    extensions={"code": TOO_DEEP},
                )
        elif kind in _CLOSING:
            depth -= 1


def check_operation_name(definitions: Any, operation_name: str | None) -> None:
    """The GraphQL spec's GetOperation: which operation runs must not be a guess."""
    operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
    if operation_name is None:
        if len(operations) > 1:
            raise GraphQLError(
                f"The document has {len(operations)} operations: name the one to run "
                "in operationName."
            )
        return
    if not any(op.name is not None and op.name.value == operation_name for op in operations):
        raise GraphQLError(f"The document has no operation named {operation_name!r}.")


class _Exceeded(Exception):  # noqa: N818 (a signal, not an error)
    def __init__(self, error: GraphQLError) -> None:
        self.error = error


@dataclass
class _Step:
    selections: SelectionSetNode
    parent: GraphQLNamedType | None
    depth: int  # of the fields in ``selections``
    multiplier: int  # how many times each of them is resolved
    fragments: frozenset[str]  # the fragments being expanded on this path (no cycles)


class Measure:
    """Depth and cost of a document's operations, walked without recursion and left
    as soon as a limit is passed (so the work is bounded by the limits)."""

    def __init__(
        self, schema: GraphQLSchema, definitions: Any, variables: Mapping[str, Any]
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
        self.fragments = {
            d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)
        }

    def refusal(self, max_depth: int, max_cost: int) -> GraphQLError | None:
        try:
            for operation in self.operations:
                root = self.schema.get_root_type(operation.operation)
                self._walk(operation.selection_set, root, max_depth, max_cost)
        except _Exceeded as exceeded:
            return exceeded.error
        return None

    def _walk(
        self,
        selections: SelectionSetNode,
        root: GraphQLNamedType | None,
        max_depth: int,
        max_cost: int,
    ) -> None:
        cost = 0
        pending = [_Step(selections, root, 1, 1, frozenset())]
        while pending:
            step = pending.pop()
            for node in step.selections.selections:
                if isinstance(node, FieldNode):
                    if step.depth > max_depth:
                        raise _Exceeded(
                            GraphQLError(
                                f"The query is deeper than {max_depth} levels of fields.",
                                extensions={"code": TOO_DEEP},
                            )
                        )
                    cost += step.multiplier
                    if cost > max_cost:
                        raise _Exceeded(
                            GraphQLError(
                                f"The query costs more than {max_cost} (each field counts "
                                "once per item of the lists around it).",
                                extensions={"code": TOO_COMPLEX},
                            )
                        )
                    if node.selection_set is not None:
                        child, items = self._field(step.parent, node)
                        pending.append(
                            _Step(
                                node.selection_set,
                                child,
                                step.depth + 1,
                                step.multiplier * items,
                                step.fragments,
                            )
                        )
                elif isinstance(node, InlineFragmentNode):
                    parent = self._condition(node, step.parent)
                    pending.append(
                        _Step(
                            node.selection_set, parent, step.depth, step.multiplier, step.fragments
                        )
                    )
                elif isinstance(node, FragmentSpreadNode):
                    name = node.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in step.fragments:
                        continue  # unknown or cyclic: graphql-core's rules refuse it
                    parent = self._condition(fragment, step.parent)
                    pending.append(
                        replace(
                            step,
                            selections=fragment.selection_set,
                            parent=parent,
                            fragments=step.fragments | {name},
                        )
                    )

    def _condition(
        self, node: InlineFragmentNode | FragmentDefinitionNode, parent: GraphQLNamedType | None
    ) -> GraphQLNamedType | None:
        if node.type_condition is None:
            return parent
        return self.schema.get_type(node.type_condition.name.value)

    def _field(self, parent: GraphQLNamedType | None, node: FieldNode) -> tuple[Any, int]:
        """The named type of a field and how many items it stands for (1 if no list)."""
        name = node.name.value
        fields = getattr(parent, "fields", None) or {}
        definition = _META_FIELDS.get(name) or fields.get(name)
        if definition is None:
            return None, 1  # unknown: graphql-core's rules refuse it
        named = get_named_type(definition.type)
        if not isinstance(get_nullable_type(definition.type), GraphQLList):
            return named, 1
        return named, self._items(node, definition)

    def _items(self, node: FieldNode, definition: Any) -> int:
        for argument in node.arguments or ():
            if argument.name.value != "limit":
                continue
            value = argument.value
            given: Any = None
            if isinstance(value, IntValueNode) and len(value.value) <= _INT_DIGITS:
                given = int(value.value)
            elif isinstance(value, VariableNode):
                given = self.variables.get(value.name.value)
            # Not a 32-bit Int: graphql-core refuses the value itself (validation_error).
            if isinstance(given, int) and not isinstance(given, bool) and abs(given) < 2**31:
                return max(1, given)
        declared = definition.args.get("limit") if definition.args else None
        default = getattr(declared, "default_value", None)
        if isinstance(default, int) and not isinstance(default, bool):
            return max(1, default)
        return DEFAULT_LIST_SIZE

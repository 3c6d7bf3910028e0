"""What a GraphQL document may ask, checked before graphql-core validates or runs it.

Beside Strawberry's token and alias limits (see ``schema.build_schema``):

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
from graphql.type import SchemaMetaFieldDef, TypeMetaFieldDef, TypeNameMetaFieldDef
from strawberry.extensions import SchemaExtension

MAX_NESTING = 64
"""Deepest nesting of fields, inline fragments and spreads the measure walks (graphql-core's
parser has its own bound, 200, on the text)."""
DEFAULT_LIST_SIZE = 10
"""Items counted for a list field that has no ``limit`` argument."""
_INT_DIGITS = 10  # a GraphQL Int is 32-bit
TOO_DEEP = "query_too_deep"
TOO_COMPLEX = "query_too_complex"
_META_FIELDS = {
    "__schema": SchemaMetaFieldDef,
    "__type": TypeMetaFieldDef,
    "__typename": TypeNameMetaFieldDef,
}


class DocumentLimits(SchemaExtension):
    """The checks above, on every operation (HTTP and WebSocket alike)."""

    def __init__(self, *, max_depth: int, max_cost: int) -> None:
        self.max_depth = max_depth
        self.max_cost = max_cost

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        # Read before parsing: once there is a document, Strawberry answers the name of
        # its first operation when the request named none.
        parsed_here = context.graphql_document is None
        requested = context.operation_name
        yield
        if parsed_here and context.graphql_document is not None:
            check_operation_name(context.graphql_document.definitions, requested)

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.pre_execution_errors is None:
            measure = Measure(
                context.schema._schema,
                document.definitions,
                context.variables or {},
                max_depth=self.max_depth,
                max_cost=self.max_cost,
            )
            error = measure.refusal()
            if error is not None:
                # Set before graphql-core's rules run: Strawberry then skips them.
                context.pre_execution_errors = [error]
        yield


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


def _too_deep(message: str) -> _Exceeded:
    return _Exceeded(GraphQLError(message, extensions={"code": TOO_DEEP}))


class Measure:
    """Depth and cost of a document's operations.

    Each fragment is measured once (its cost and depth do not depend on where it is
    spread), so a fragment spread twice in each of twenty fragments costs twenty steps,
    not a million. The walk nests at most MAX_NESTING levels (fields, inline fragments
    and spreads together), which also bounds its recursion, and stops at the first
    limit passed.
    """

    def __init__(
        self,
        schema: GraphQLSchema,
        definitions: Any,
        variables: Mapping[str, Any],
        *,
        max_depth: int,
        max_cost: int,
    ) -> None:
        self.schema = schema
        self.variables = variables
        self.max_depth = max_depth
        self.max_cost = max_cost
        self.operations = [d for d in definitions if isinstance(d, OperationDefinitionNode)]
        self.fragments = {
            d.name.value: d for d in definitions if isinstance(d, FragmentDefinitionNode)
        }
        self.measured: dict[str, tuple[int, int]] = {}
        self.expanding: set[str] = set()

    def refusal(self) -> GraphQLError | None:
        """The error refusing the document, or None if every operation is within limits."""
        try:
            for operation in self.operations:
                root = self.schema.get_root_type(operation.operation)
                self._measure(operation.selection_set, root, 0)
        except _Exceeded as exceeded:
            return exceeded.error
        return None

    def _measure(
        self, selections: SelectionSetNode, parent: GraphQLNamedType | None, level: int
    ) -> tuple[int, int]:
        """(cost, depth) of a selection set, for one instance of ``parent``."""
        if level > MAX_NESTING:
            raise _too_deep(f"The query nests deeper than {MAX_NESTING} levels.")
        cost = depth = 0
        for node in selections.selections:
            if isinstance(node, FieldNode):
                items, sub_cost, sub_depth = 1, 0, 0
                if node.selection_set is not None:
                    child, items = self._field(parent, node)
                    sub_cost, sub_depth = self._measure(node.selection_set, child, level + 1)
                cost += 1 + items * sub_cost
                depth = max(depth, 1 + sub_depth)
            elif isinstance(node, InlineFragmentNode):
                inner = self._condition(node, parent)
                sub_cost, sub_depth = self._measure(node.selection_set, inner, level + 1)
                cost, depth = cost + sub_cost, max(depth, sub_depth)
            elif isinstance(node, FragmentSpreadNode):
                sub_cost, sub_depth = self._fragment(node.name.value, parent, level + 1)
                cost, depth = cost + sub_cost, max(depth, sub_depth)
            self._check(cost, depth)
        return cost, depth

    def _fragment(self, name: str, parent: GraphQLNamedType | None, level: int) -> tuple[int, int]:
        if name in self.measured:
            return self.measured[name]
        fragment = self.fragments.get(name)
        if fragment is None or name in self.expanding:
            return 0, 0  # unknown or cyclic: graphql-core's rules refuse it
        self.expanding.add(name)
        try:
            found = self._measure(fragment.selection_set, self._condition(fragment, parent), level)
        finally:
            self.expanding.discard(name)
        self.measured[name] = found
        return found

    def _check(self, cost: int, depth: int) -> None:
        if depth > self.max_depth:
            raise _too_deep(f"The query is deeper than {self.max_depth} levels of fields.")
        if cost > self.max_cost:
            raise _Exceeded(
                GraphQLError(
                    f"The query costs more than {self.max_cost} (each field counts once per "
                    "item of the lists around it).",
                    extensions={"code": TOO_COMPLEX},
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

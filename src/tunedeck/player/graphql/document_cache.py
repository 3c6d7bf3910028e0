"""Documents the schema has parsed and validated already, so a query sent again (a bot's
or the dashboard's, every few seconds) is neither parsed nor validated again.

graphql-core's validation (the spec's rules, the alias limit, introspection off) depends
on the schema and the document only, and parsing on the text and the token limit: for
one schema, a text that parsed and validated once does so again, with the same document.
So :class:`KnownDocuments` keeps, per schema, the documents that passed both, by their
text and parse options (a bounded LRU; texts longer than :data:`MAX_TEXT` are not kept,
nor documents that failed: their errors are worked out again each time). What depends on
the request is still checked on each: the operation to run and the depth and cost limits
(``document_limits``, whose cost reads the variables), the fields' permissions and rate
limits.

:class:`CachedDocuments` is the per-request extension. It must come after
``DocumentLimits`` in the schema's extensions: that one decides whether the document
was parsed for this request before this one hands a known document over.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator, Mapping
from typing import Any

from graphql import DocumentNode
from strawberry.extensions import SchemaExtension

SIZE = 64
"""Documents kept per schema."""
MAX_TEXT = 16 * 1024
"""Longest query text (characters) whose document is kept."""

_Key = tuple[str, tuple[tuple[str, Any], ...]]


class KnownDocuments:
    """The documents of one schema that parsed and validated, by text and parse options."""

    def __init__(self, size: int = SIZE) -> None:
        self.size = size
        self._documents: OrderedDict[_Key, DocumentNode] = OrderedDict()

    def __len__(self) -> int:
        return len(self._documents)

    @staticmethod
    def key(query: str, parse_options: Mapping[str, Any]) -> _Key | None:
        """The key of a text parsed with ``parse_options`` (None: not kept, too long)."""
        if len(query) > MAX_TEXT:
            return None
        return query, tuple(sorted(parse_options.items()))

    def get(self, key: _Key) -> DocumentNode | None:
        document = self._documents.get(key)
        if document is not None:
            self._documents.move_to_end(key)
        return document

    def add(self, key: _Key, document: DocumentNode) -> None:
        self._documents[key] = document
        self._documents.move_to_end(key)
        while len(self._documents) > self.size:
            self._documents.popitem(last=False)


class CachedDocuments(SchemaExtension):
    """Hands over a known document instead of parsing and validating it again; keeps the
    ones this request parsed and validated without errors."""

    def __init__(self, known: KnownDocuments) -> None:
        self.known = known
        self._key: _Key | None = None
        self._known = False

    def on_parse(self) -> Iterator[None]:
        context = self.execution_context
        if context.graphql_document is None and context.query is not None:
            self._key = self.known.key(context.query, context.parse_options)
            document = self.known.get(self._key) if self._key is not None else None
            if document is not None:
                context.graphql_document = document
                self._known = True
        yield

    def on_validate(self) -> Iterator[None]:
        context = self.execution_context
        # Nothing refused the document before validation (the depth and cost limits).
        checking = context.pre_execution_errors is None
        if checking and self._known:
            context.pre_execution_errors = []  # valid: Strawberry skips the rules
        yield
        validated = checking and not self._known and context.pre_execution_errors == []
        if validated and self._key is not None and context.graphql_document is not None:
            self.known.add(self._key, context.graphql_document)

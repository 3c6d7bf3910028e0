"""Schemathesis checks of our own, loaded by the fuzzing runs (``SCHEMATHESIS_HOOKS``).

GraphQL answers an error in the body, with a status in ``extensions.status``.
Schemathesis's ``not_a_server_error`` and ``positive_data_acceptance`` judge GraphQL
errors by Apollo's or graphql-java's markers, which TuneDeck's errors do not carry (they
carry the REST vocabulary: ``extensions.code`` and the HTTP status REST would answer),
so every refusal would count as a server fault. This check says the same thing in our
words: no answer is a server error, and every error is one a caller can act on.
"""

from __future__ import annotations

import json
from typing import Any

import graphql
import schemathesis
from hypothesis import strategies as st
from schemathesis import Case, CheckContext, Response
from schemathesis.graphql import nodes
from schemathesis.specs.graphql.schemas import GraphQLSchema


def _field(name: str, value: graphql.ValueNode) -> graphql.ObjectFieldNode:
    return graphql.ObjectFieldNode(name=graphql.NameNode(value=name), value=value)


def _settings_changes() -> st.SearchStrategy[graphql.ValueNode]:
    """What the ``JSON`` scalar (song request settings) is given: objects of the settings'
    own fields with any values, and fields no setting has (each a change or a refusal
    with a code)."""
    value = st.one_of(
        st.booleans().map(nodes.Boolean),
        st.integers(min_value=-(2**31), max_value=2**31 - 1).map(nodes.Int),
        st.text(max_size=300).map(nodes.String),
    )
    name = st.sampled_from(["open", "closed_message", "roles", "blocked_tracks", "unknown"])
    return st.lists(st.tuples(name, value), max_size=3, unique_by=lambda pair: pair[0]).map(
        lambda pairs: nodes.Object([_field(key, node) for key, node in pairs])
    )


schemathesis.graphql.scalar("JSON", _settings_changes())


class GraphQLServerFault(AssertionError):
    """A GraphQL answer that is a server fault: a 5xx, or an error that is not ours."""


@schemathesis.check
def graphql_errors_are_answers(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    if not isinstance(case.operation.schema, GraphQLSchema):
        return None  # REST answers are judged by the description
    if response.status_code >= 500:
        raise GraphQLServerFault(f"HTTP {response.status_code}: {response.text[:300]}")
    try:
        body: Any = json.loads(response.content)
    except ValueError as exc:
        raise GraphQLServerFault(f"not JSON: {response.text[:300]}") from exc
    if not isinstance(body, dict) or not ({"data", "errors"} & body.keys()):
        raise GraphQLServerFault(f"not a GraphQL answer: {response.text[:300]}")
    for error in body.get("errors") or []:
        extensions = error.get("extensions") or {}
        code, status = extensions.get("code"), extensions.get("status")
        if not isinstance(code, str) or not isinstance(status, int) or status >= 500:
            raise GraphQLServerFault(f"an error that is not a caller's: {error}")
    return True

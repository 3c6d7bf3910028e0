"""Field permissions: each field names its permission, checked by the one permission check."""

from __future__ import annotations

from typing import Any, ClassVar

from strawberry.permission import BasePermission
from strawberry.types import Info

from tunedeck.accounts.permissions import Permission, require_permission
from tunedeck.player.graphql.context import GraphQLContext


class Needs(BasePermission):
    """Base of the per-permission classes made by :func:`needs`."""

    permission: ClassVar[Permission]

    def has_permission(self, source: Any, info: Info[GraphQLContext, None], **kwargs: Any) -> bool:
        # Raises Forbidden (extensions.code "missing_permission"), exactly as REST answers 403.
        require_permission(info.context.player.principal, self.permission)
        return True


_CLASSES: dict[Permission, type[Needs]] = {}


def needs(permission: Permission) -> type[Needs]:
    """The permission class of fields guarded by ``permission`` (one class per permission)."""
    if permission not in _CLASSES:
        _CLASSES[permission] = type(
            f"Needs_{permission.name.lower()}", (Needs,), {"permission": permission}
        )
    return _CLASSES[permission]

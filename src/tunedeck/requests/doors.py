"""What the REST and GraphQL doors share: who a submission is for, and a refusal as the
error both render (422 ``{"error": {"code": "<reason>", "message": "<sentence>"}}``;
GraphQL: ``extensions.code``)."""

from __future__ import annotations

from tunedeck.accounts.permissions import Principal, PrincipalKind
from tunedeck.kit.errors import NotFound, TuneDeckError
from tunedeck.requests import service
from tunedeck.requests.context import RequestsContext
from tunedeck.requests.reasons import Refusal
from tunedeck.requests.schemas import RequestOut, Source, SubmitIn, ViewerIn
from tunedeck.requests.text import bounded
from tunedeck.requests.viewers import MAX_NAME, Role, Viewer


class RequestRefused(TuneDeckError):  # noqa: N818 (named as the others)
    """A viewer's request was not taken: the code is the reason's, the message its sentence."""

    status = 422
    code = "request_refused"

    @classmethod
    def of(cls, refusal: Refusal) -> RequestRefused:
        return cls(refusal.sentence, code=refusal.code.value)


class BanNotFound(NotFound):
    code = "ban_not_found"


def caller_as_viewer(principal: Principal) -> tuple[Viewer, Source]:
    """A key (source ``api``) or the dashboard (source ``dashboard``) asking for itself:
    the streamer's own, with the broadcaster's rules."""
    dashboard = principal.kind is PrincipalKind.SESSION
    name = bounded(principal.label, MAX_NAME) or "streamer"
    viewer = Viewer(
        platform="dashboard" if dashboard else "api",
        id=str(principal.key_id or principal.credential_id),
        login=None,
        display_name=name,
        role=Role.BROADCASTER,
        claimed=Role.BROADCASTER,
    )
    return viewer, Source.DASHBOARD if dashboard else Source.API


def named_viewer(named: ViewerIn) -> Viewer:
    """A viewer a bot or tool names (with ``requests:submit``): believed as named."""
    display = bounded(named.display_name, MAX_NAME) or named.login or named.id or "viewer"
    return Viewer(
        platform=named.platform.lower(),
        id=named.id,
        login=named.login.lower().lstrip("@") if named.login else None,
        display_name=display,
        role=named.role,
        claimed=named.role,
    )


async def submit(ctx: RequestsContext, body: SubmitIn) -> RequestOut:
    """Submit for the viewer named, or for the caller; a refusal is raised (422)."""
    if body.viewer is not None:
        viewer, source = named_viewer(body.viewer), Source.API
    else:
        viewer, source = caller_as_viewer(ctx.principal)
    result = await service.submit(ctx, viewer, body.query, source)
    if isinstance(result, Refusal):
        raise RequestRefused.of(result)
    return result.request

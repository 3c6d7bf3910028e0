"""The headers of every page TuneDeck serves: a Content-Security-Policy that keeps the
page on TuneDeck's origin unless a directive says otherwise, no Referer, no sniffing."""

from __future__ import annotations

# Nothing from another origin, no plugins, no <base>, not framed, forms to ourselves.
BASE_POLICY: dict[str, str] = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self'",
    "connect-src": "'self'",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def content_security_policy(**relaxed: str) -> str:
    """The base policy with some directives replaced (``img_src="'self' data:"`` sets
    ``img-src``)."""
    directives = {**BASE_POLICY, **{name.replace("_", "-"): v for name, v in relaxed.items()}}
    return "; ".join(f"{name} {value}" for name, value in directives.items())


def page_headers(policy: str) -> dict[str, str]:
    """The headers of a page served under ``policy``."""
    return {
        "Content-Security-Policy": policy,
        "Referrer-Policy": "no-referrer",
        "X-Content-Type-Options": "nosniff",
        "Cache-Control": "no-cache",
    }

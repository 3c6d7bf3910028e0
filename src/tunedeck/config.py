"""Settings from the environment (``TUNEDECK_*``), read the same way by every entry point."""

from __future__ import annotations

import ipaddress
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

SPOTIFY_API_URL = "https://api.spotify.com/v1"
SPOTIFY_ACCOUNTS_URL = "https://accounts.spotify.com"
# One entry of TUNEDECK_ALLOWED_HOSTS: *, a name or address (*.name: its subdomains), or
# an IPv6 address in brackets; each with a port or not.
_HOST_ENTRY = re.compile(
    r"\*|(?:\*\.)?[A-Za-z0-9_.-]+(?::[0-9]{1,5})?|\[[0-9A-Fa-f:.]+\](?::[0-9]{1,5})?"
)


class Settings(BaseSettings):
    """Everything configurable about one TuneDeck process."""

    model_config = SettingsConfigDict(env_prefix="TUNEDECK_", extra="ignore")

    data_dir: Path = Field(default=Path(".tunedeck"), description="Where embedded state lives.")
    database_url: str | None = Field(
        default=None,
        description="postgresql://... or sqlite:///path; default a SQLite file in data_dir.",
    )
    encryption_keys: str | None = Field(
        default=None,
        description="Keyring 'kid:base64key,kid:base64key'; the first key is primary.",
    )
    redis_url: str | None = None
    # ---- events ----
    redis_namespace: str = Field(
        default="tunedeck",
        pattern=r"^[A-Za-z0-9_-]{1,64}$",
        description=(
            "Prefix of every Redis key and channel (pub/sub ignores the database number): "
            "deployments sharing one Redis each need their own."
        ),
    )
    spotify_api_url: str = SPOTIFY_API_URL
    spotify_accounts_url: str = SPOTIFY_ACCOUNTS_URL
    public_url: str = "http://127.0.0.1:8000"
    allowed_hosts: str = Field(
        default="",
        description="Comma-separated names TuneDeck also answers as (name, name:port, "
        "*.example.com for subdomains, * for any), besides the public URL's host, the "
        "loopback names on the listening port and the address a connection arrived at: "
        "a request naming another Host gets 400 bad_host (kit.hosts).",
    )
    host: str = "127.0.0.1"
    port: int = 8000
    spotify_rate_limit_wait_cap: float = Field(
        default=5.0, description="Longest Retry-After (seconds) worth waiting for in-line."
    )
    spotify_deadline: float = Field(
        default=15.0,
        description="Overall deadline (seconds) for one Spotify call, retries included.",
    )
    # ---- Spotify connection pool ----
    spotify_max_connections: int = Field(
        default=100,
        gt=0,
        description="Most connections open to Spotify at once (requests beyond wait, "
        "within their deadline).",
    )
    graphql_introspection: bool = Field(
        default=True, description="Serve the GraphQL schema to introspection (and GraphiQL)."
    )
    player_state_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="How long one combined Spotify state read is shared by later callers.",
    )
    chat_answer_budget_seconds: float = Field(
        default=1.5,
        gt=0,
        le=10,
        description="How long a chat command waits for a song lookup before answering "
        "that it is under way (bots give up after a few seconds); the lookup goes on.",
    )
    session_ttl_seconds: int = Field(
        default=7 * 24 * 3600, gt=0, description="Lifetime of a dashboard session cookie."
    )
    session_idle_seconds: int = Field(
        default=12 * 3600,
        gt=0,
        description="A dashboard session unused this long ends (the idle timeout).",
    )
    # ---- real time ----
    poll_in_process: bool = Field(
        default=True,
        description="serve polls watched accounts itself; false when `tunedeck worker`s do.",
    )
    watch_linger_seconds: float = Field(
        default=60.0,
        gt=0,
        description="An account stays watched (polled) this long after its last client left.",
    )
    watch_heartbeat_seconds: float = Field(
        default=5.0,
        gt=0,
        description="How often a process renews the watch heartbeats of its clients' accounts.",
    )
    poll_playing_seconds: float = Field(
        default=3.0, gt=0, description="Poll a watched account this often while it plays."
    )
    poll_paused_seconds: float = Field(
        default=15.0, gt=0, description="Poll a watched account this often while it is paused."
    )
    poll_idle_seconds: float = Field(
        default=30.0,
        gt=0,
        description="Poll this often when nothing plays and no device is active.",
    )
    poll_track_end_margin_seconds: float = Field(
        default=0.4,
        ge=0,
        description="Poll this long after the expected end of the track, to see the next one.",
    )
    poll_burst_seconds: tuple[float, ...] = Field(
        default=(0.3, 1.5),
        description="After a command sent through TuneDeck, poll again this long after it.",
    )
    poll_seek_tolerance_ms: int = Field(
        default=2000,
        ge=0,
        description="A position this far off the predicted one counts as a seek (published).",
    )
    poll_timeout_seconds: float = Field(
        default=5.0, gt=0, description="Longest one poll of one account may take."
    )
    poll_lease_seconds: float = Field(
        default=7.0,
        gt=0,
        le=60,
        description=(
            "TTL of a process's lease on an account it polls: a dead process's accounts are"
            " polled again about a second after it (7 s: within 10 s)."
        ),
    )
    poll_reconcile_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often a poller reads the watched set and takes or gives up accounts.",
    )
    poll_max_accounts: int = Field(
        default=10_000, gt=0, description="Most accounts one process polls at once."
    )
    poll_rate_limit_announce_seconds: float = Field(
        default=60.0,
        ge=0,
        description="A 429 pause longer than this is announced to clients (status rate_limited).",
    )
    poll_reauth_check_seconds: float = Field(
        default=30.0,
        gt=0,
        description="How often a stopped account (needs_reauth, not connected) is looked at again.",
    )
    request_feed_lead_seconds: float = Field(
        default=5.0,
        gt=0,
        le=60,
        description="Hand a song request to Spotify when the track playing has this long left.",
    )

    # ---- play history ----
    history_enabled: bool = Field(
        default=True, description="Record every item that plays (the poller's readings)."
    )
    history_retention_days: int = Field(
        default=730, gt=0, description="Plays older than this many days are deleted."
    )
    history_gap_seconds: float = Field(
        default=120.0,
        gt=0,
        description="A play not seen for longer than this ended unobserved: its end is "
        "recorded as an estimate (ended_estimated), its end reason as unknown.",
    )
    history_maintenance_seconds: float = Field(
        default=60.0,
        gt=0,
        description="How often streams left open and plays nobody follows are looked at "
        "(and, hourly, old plays deleted).",
    )
    stream_idle_seconds: float = Field(
        default=1800.0,
        gt=0,
        description="An open stream with nothing playing for this long is closed.",
    )

    # ---- live feed ----
    allowed_origins: str = Field(
        default="",
        description="Comma-separated origins whose pages may open the live feed, besides "
        "the pages served under TuneDeck's own names (the public URL, allowed_hosts, "
        "the loopback names on the listening port).",
    )
    live_queue_size: int = Field(
        default=256, gt=0, description="Messages a live client may fall behind before it is closed."
    )
    live_revocation_seconds: float = Field(
        default=0.5,
        gt=0,
        description="How often each process checks its live clients' credentials.",
    )
    live_keepalive_seconds: float = Field(
        default=15.0, gt=0, description="Keep-alive comment interval of the SSE feed."
    )
    live_auth_timeout_seconds: float = Field(
        default=5.0,
        gt=0,
        description="A live WebSocket (feed or GraphQL) that has not authenticated this "
        "long after opening is closed.",
    )
    # Caps on the live connections (feed WebSocket, SSE, GraphQL WebSocket) open in one
    # process at once; a connection over one is refused (4429 / 429).
    live_max_per_credential: int = Field(
        default=50,
        gt=0,
        description="Live connections one API key, overlay token or dashboard session may "
        "hold open.",
    )
    live_max_per_account: int = Field(
        default=200, gt=0, description="Live connections all of one account's credentials hold."
    )
    live_max_per_address: int = Field(
        default=100,
        gt=0,
        description="Authenticated live connections from one client address.",
    )
    live_max_unauthenticated_per_address: int = Field(
        default=20,
        gt=0,
        description="Live WebSockets from one client address still waiting to authenticate.",
    )

    # ---- failed sign-ins ----
    auth_throttle: bool = Field(
        default=True,
        description="Throttle failed authentications per client address (false: no throttle).",
    )
    auth_failure_burst: int = Field(
        default=20,
        ge=1,
        description="Failed authentications one client address may make before it is throttled.",
    )
    auth_failures_per_second: float = Field(
        default=1.0,
        gt=0,
        description="How fast a throttled address earns another attempt (the burst refills).",
    )

    # ---- request limits ----
    rate_limits: bool = Field(
        default=True,
        description="Limit how fast each API key and each account calls the player "
        "(false: no limits).",
    )
    rate_limit_key_commands_per_second: float = Field(
        default=10.0, gt=0, description="Commands one API key may send per second, sustained."
    )
    rate_limit_key_command_burst: int = Field(
        default=20, ge=1, description="Commands one API key may send at once."
    )
    rate_limit_account_commands_per_second: float = Field(
        default=15.0,
        gt=0,
        description="Commands all the keys of one account may send per second, together.",
    )
    rate_limit_account_command_burst: int = Field(
        default=30, ge=1, description="Commands all the keys of one account may send at once."
    )
    rate_limit_key_reads_per_second: float = Field(
        default=20.0, gt=0, description="Reads one API key may make per second, sustained."
    )
    rate_limit_key_read_burst: int = Field(
        default=40, ge=1, description="Reads one API key may make at once."
    )
    rate_limit_account_reads_per_second: float = Field(
        default=40.0,
        gt=0,
        description="Reads all the keys of one account may make per second, together.",
    )
    rate_limit_account_read_burst: int = Field(
        default=80, ge=1, description="Reads all the keys of one account may make at once."
    )
    rate_limit_redis_timeout_seconds: float = Field(
        default=0.5,
        gt=0,
        description="Longest wait for Redis on a rate-limit check; past it the request "
        "goes through unchecked (limits fail open while Redis is down).",
    )

    # ---- operations: logs, /metrics, /readyz ----
    log_format: Literal["text", "json"] = Field(
        default="text",
        description="Log lines as text (a terminal) or one JSON object per line (containers).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(
        default="info", description="The least severe log records written."
    )
    access_log: bool = Field(
        default=True, description="Write one line per HTTP request and WebSocket session."
    )
    ready_max_relay_lag_seconds: float = Field(
        default=30.0,
        gt=0,
        description="/readyz says degraded when the oldest waiting event is older than this.",
    )
    ready_max_outbox_backlog: int = Field(
        default=10_000,
        gt=0,
        description="/readyz says degraded when more events than this wait in the outbox "
        "(it counts no further).",
    )
    ready_cache_seconds: float = Field(
        default=1.0,
        ge=0,
        description="/readyz answers from its last report for this long (one database pass "
        "however many probes come meanwhile).",
    )
    trust_loopback: bool = Field(
        default=True,
        description="A caller on this machine (loopback, no forwarding header) reads /metrics "
        "without a key; false when something on this machine forwards outside callers "
        "without naming them in X-Forwarded-For (a bare tunnel, a proxy at its defaults).",
    )
    worker_metrics_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="`tunedeck worker` serves /metrics, /healthz and /readyz on this port "
        "(on TUNEDECK_HOST); unset: no HTTP at all.",
    )

    # ---- hostile input ----
    max_body_bytes: int = Field(
        default=64 * 1024,
        gt=0,
        description="Largest request body (REST and GraphQL): a larger one gets 413 unread. "
        "Also the largest WebSocket message (GraphQL subscriptions, live feed): a larger "
        "one closes the connection (1009).",
    )
    graphql_max_depth: int = Field(
        default=20,
        gt=0,
        description="Deepest field nesting of a GraphQL operation, introspection included "
        "(GraphiQL's introspection query is 15 deep).",
    )
    graphql_max_cost: int = Field(
        default=100_000,
        gt=0,
        description="Highest cost of a GraphQL operation: each field counts once per item of "
        "the lists around it (a list's `limit` argument, else 10 items). GraphiQL's "
        "introspection query costs about 52,000; the player's largest query a few hundred.",
    )

    @property
    def allowed_origin_list(self) -> list[str]:
        """``allowed_origins`` as a list."""
        return [o.strip() for o in self.allowed_origins.split(",") if o.strip()]

    @field_validator("allowed_hosts")
    @classmethod
    def _host_names(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",")):
            if entry and not _HOST_ENTRY.fullmatch(entry):
                raise ValueError(
                    f"{entry!r} is not a host: give name, name:port, *.example.com or * "
                    "(a name, not a URL)"
                )
        return value

    @property
    def allowed_host_list(self) -> list[str]:
        """``allowed_hosts`` as a list."""
        return [h.strip() for h in self.allowed_hosts.split(",") if h.strip()]

    @property
    def resolved_database_url(self) -> str:
        """The database URL with the driver each engine needs (asyncpg / aiosqlite)."""
        url = self.database_url or f"sqlite:///{(self.data_dir / 'tunedeck.db').resolve()}"
        return to_async_url(url)


def to_async_url(url: str) -> str:
    """Add the async driver suffix to a plain ``postgresql://`` or ``sqlite://`` URL."""
    for plain, driver in (
        ("postgresql://", "postgresql+asyncpg://"),
        ("postgres://", "postgresql+asyncpg://"),
        ("sqlite://", "sqlite+aiosqlite://"),
    ):
        if url.startswith(plain):
            return driver + url[len(plain) :]
    return url


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process-wide settings, read once from the environment."""
    return Settings()


def origin_for(host: str, port: int) -> str:
    """The URL clients use to reach the server: a wildcard bind is reached on loopback."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        return f"http://127.0.0.1:{port}"
    return f"http://[{host}]:{port}" if address.version == 6 else f"http://{host}:{port}"


def listening_settings(settings: Settings, host: str | None, port: int | None) -> Settings:
    """``settings`` with the command's --host / --port; the public URL follows them
    unless TUNEDECK_PUBLIC_URL was set (so the redirect URI names the real port)."""
    host, port = host or settings.host, port or settings.port
    update: dict[str, object] = {"host": host, "port": port}
    if "public_url" not in settings.model_fields_set:
        update["public_url"] = origin_for(host, port)
    return settings.model_copy(update=update)

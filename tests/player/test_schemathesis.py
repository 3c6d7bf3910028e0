"""Schemathesis over the whole REST contract (``/openapi.json``) and the GraphQL schema,
with a key holding every permission and with a read-only key, against the simulator.

Every Schemathesis check runs (``-c all``: status codes, content types, headers and
bodies as documented, schema-valid input accepted, schema-invalid input refused, auth
enforced, deleted resources gone, created ones there) through every phase (examples,
coverage, fuzzing, stateful), as ``st run`` would from outside; GraphQL adds
``fuzz_checks.graphql_errors_are_answers``. ``schemathesis.toml`` beside this file
and the groups below hold the two exceptions the description cannot state.

The budget is ``TUNEDECK_FUZZ_CASES`` generated requests in total (default about
1,000: the run inside ``make test``, without the coverage phase; ``make fuzz`` runs
12,000 with it). The test prints the
requests per group, the failures and the 5xx answers; it passes with none of either.
Only on PostgreSQL + Redis: the backend that refuses most (NUL in text, for one).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.accounts.conftest import MakeCaller
from tests.kit import storage
from tests.player.conftest import ALL, MakeStreamer, connect_account, player_settings
from tests.support.servers import serve_in_thread
from tests.support.simulator import Sim
from tunedeck.app import create_app
from tunedeck.kit.db import Database

pytestmark = [pytest.mark.slow, pytest.mark.postgres_only]

HERE = Path(__file__).parent
CONFIG = HERE / "schemathesis.toml"
ROOT = HERE.parent.parent
DEFAULT_CASES = 1000
SEED = int(os.environ.get("TUNEDECK_FUZZ_SEED", "20261202"))
# Below this budget (the run inside make test) the coverage phase is left out: it sends
# a few dozen requests per operation whatever the budget (boundaries of every value).
COVERAGE_FROM = 5000
# Requests Schemathesis sends per operation for each example it is allowed (measured:
# the coverage and stateful phases add to the fuzzing phase's own).
REQUESTS_PER_EXAMPLE = {"openapi": 1.6, "openapi-small": 1.3, "graphql": 1.0}
MAX_ROUNDS = 4
# Settings of the server under fuzz: no rate limits and no throttle of failed sign-ins,
# so that what is fuzzed is the contract and not the abuse limits (their 429 is
# documented all the same; tests/player/test_limits.py and tests/accounts/test_throttle.py
# prove them): thousands of requests of one key would otherwise be mostly 429s, and the
# wrong credentials Schemathesis sends on purpose (its authentication checks) would soon
# throttle its one address.
FUZZ_SETTINGS: dict[str, Any] = {"rate_limits": False, "auth_throttle": False}


@dataclass(frozen=True)
class Group:
    """One run of Schemathesis: a schema, the operations of it, a key."""

    name: str
    kind: str  # "openapi" or "graphql"
    key: str
    operations: int
    share: float  # of the case budget
    filters: tuple[str, ...] = ()


@dataclass
class Outcome:
    group: str
    requests: int
    statuses: Counter[int]
    failures: list[str]
    exit_code: int

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)


def budget() -> int:
    return int(os.environ.get("TUNEDECK_FUZZ_CASES", str(DEFAULT_CASES)))


def run(group: Group, base: str, total: int, workdir: Path) -> Outcome:
    """Run Schemathesis for ``group`` until it has sent its share of the budget: the
    first round asks for about that many examples, a further one (another seed) for
    what is still missing, if Schemathesis sent fewer."""
    share = math.ceil(total * group.share)
    outcome = Outcome(group.name, 0, Counter(), [], 0)
    for round_ in range(MAX_ROUNDS):
        missing = share - outcome.requests
        if missing <= 0 or outcome.failures:
            break
        reports = workdir / f"{slug(group.name)}-{round_}"
        done = run_once(
            group,
            base,
            small=total < COVERAGE_FROM,
            wanted=missing,
            seed=SEED + round_,
            reports=reports,
        )
        done.statuses.update(outcome.statuses)
        outcome = Outcome(
            group.name,
            outcome.requests + done.requests,
            done.statuses,
            outcome.failures + done.failures,
            outcome.exit_code or done.exit_code,
        )
    return outcome


def slug(name: str) -> str:
    return name.replace(" ", "-").replace("/", "")


def run_once(
    group: Group, base: str, *, small: bool, wanted: int, seed: int, reports: Path
) -> Outcome:
    """One run of Schemathesis for about ``wanted`` requests, as a separate process
    (``small``: without the coverage phase)."""
    small = small and group.kind == "openapi"
    rate = REQUESTS_PER_EXAMPLE["openapi-small" if small else group.kind]
    examples = max(2, math.ceil(wanted / group.operations / rate))
    phases = ("--phases", "examples,fuzzing,stateful") if small else ()
    location = f"{base}/openapi.json" if group.kind == "openapi" else f"{base}/graphql"
    command = [
        *(sys.executable, "-m", "schemathesis.cli", "--config-file", str(CONFIG), "run"),
        location,
        *("--header", f"Authorization: Bearer {group.key}"),
        *("--checks", "all" if group.kind == "openapi" else _graphql_checks()),
        *("--max-examples", str(examples)),
        *("--seed", str(seed)),
        *("--workers", "1"),
        *("--report", "har,json"),
        *("--report-har-path", str(reports / "requests.har")),
        *("--report-json-path", str(reports / "run.json")),
        *("--continue-on-failure", "--suppress-health-check", "all"),
        *phases,
        *group.filters,
    ]
    env = {
        **os.environ,
        "SCHEMATHESIS_HOOKS": "tests.player.fuzz_checks",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    reports.mkdir(parents=True)
    # In its own directory: Schemathesis keeps a cache where it runs.
    done = subprocess.run(command, env=env, cwd=reports, capture_output=True, text=True)
    (reports / "output.txt").write_text(done.stdout + done.stderr)
    if not (reports / "run.json").exists():
        return Outcome(group.name, 0, Counter(), [f"no report: {done.stdout[-3000:]}"], 1)
    har = json.loads((reports / "requests.har").read_text())
    statuses = Counter(int(entry["response"]["status"]) for entry in har["log"]["entries"])
    report = json.loads((reports / "run.json").read_text())
    failures = [
        f"{f['code']} {f['title']} x{f['count']}: {', '.join(f['operations'])}"
        for f in report["failures"]
    ]
    if report["errors"]:
        failures.append(f"errors: {report['errors']}")
    if done.returncode != 0 and not failures:  # a crash of the run itself
        failures.append(f"schemathesis exited {done.returncode}: {done.stdout[-2000:]}")
    return Outcome(group.name, sum(statuses.values()), statuses, failures, done.returncode)


def _graphql_checks() -> str:
    # Schemathesis's own server-error and positive-data checks misread our errors
    # (fuzz_checks says why); ours replaces them, the rest run as they are.
    return "graphql_errors_are_answers,negative_data_rejection,response_schema_conformance"


def report(outcomes: list[Outcome]) -> str:
    lines = [f"{'group':<28}{'requests':>9}{'5xx':>6}{'failures':>10}"]
    for o in outcomes:
        lines.append(f"{o.group:<28}{o.requests:>9}{o.server_errors:>6}{len(o.failures):>10}")
    total = sum(o.requests for o in outcomes)
    errors = sum(o.server_errors for o in outcomes)
    failures = sum(len(o.failures) for o in outcomes)
    lines.append(f"{'total':<28}{total:>9}{errors:>6}{failures:>10}")
    lines += [f"  {o.group}: {failure}" for o in outcomes for failure in o.failures]
    return "\n".join(lines)


@pytest.fixture(scope="module", params=storage.BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of the fuzzing's own: the streams and requests it starts make their
    accounts polled, and on the shared database every other test's app would poll them
    (a foreign account's token fails on that test's simulator, adding calls it counts)."""
    yield from storage.private_database_url(request, tmp_path_factory, "fuzz")


@pytest.fixture(scope="module")
async def database(database_url: str) -> AsyncIterator[Database]:
    db = Database(database_url)
    yield db
    await db.dispose()


@pytest.fixture
def served(database_url: str, bus_url: str | None, sim: Sim, tmp_path: Path) -> Iterator[str]:
    settings = player_settings(database_url, bus_url, sim, tmp_path, **FUZZ_SETTINGS)
    with serve_in_thread(create_app(settings)) as base:
        yield base


@pytest.mark.timeout(max(300, budget() // 10))
async def test_the_contract_holds_under_fuzzing(
    served: str,
    make_streamer: MakeStreamer,
    make_caller: MakeCaller,
    database: Database,
    sim: Sim,
    tmp_path: Path,
) -> None:
    streamer = await make_streamer()
    reader = await make_caller("spotify:read", account=streamer.caller.account)
    # The account endpoints get an account of their own: disconnecting Spotify or
    # revoking keys there leaves the player's account as it was.
    manager = await make_caller(*ALL)
    await connect_account(database, sim, manager.account.id)
    manager_reader = await make_caller("spotify:read", account=manager.account)
    # Deleting a playlist is Spotify's unfollow: the playlist lives on (its owner can
    # follow it again), so reading or changing it afterwards succeeds by design.
    player_only = ("--include-path-regex", "^/v1/spotify/", "--exclude-checks", "use_after_free")
    accounts_only = ("--exclude-path-regex", "^/v1/spotify/")
    groups = [
        Group("rest /v1/spotify admin", "openapi", streamer.caller.key, 19, 0.30, player_only),
        Group("rest /v1/spotify read-only", "openapi", reader.key, 19, 0.15, player_only),
        Group("rest accounts admin", "openapi", manager.key, 16, 0.20, accounts_only),
        Group("rest accounts read-only", "openapi", manager_reader.key, 16, 0.10, accounts_only),
        Group("graphql admin", "graphql", streamer.caller.key, 19, 0.15),
        Group("graphql read-only", "graphql", reader.key, 19, 0.10),
    ]
    total = budget()
    outcomes = [run(group, served, total, tmp_path) for group in groups]
    summary = report(outcomes)
    print(f"\nSchemathesis, budget {total} requests, seed {SEED}:\n{summary}")
    assert [o.failures for o in outcomes] == [[] for _ in outcomes], summary
    assert sum(o.server_errors for o in outcomes) == 0, summary
    assert sum(o.requests for o in outcomes) >= total, summary

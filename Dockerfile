# TuneDeck: `tunedeck serve` by default; `tunedeck worker` (or any other command) with
# the same image: `docker run IMAGE worker`. Configured by TUNEDECK_* variables only
# (see compose.yaml and .env.example). Provided as-is: built and linted, not yet run
# under a container engine by the project's tests.

# ---- build: the package and its dependencies into a virtual environment ----
FROM python:3.11.14-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/tunedeck
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/tunedeck/bin/pip install .

# ---- run: the environment alone, as an unprivileged user ----
FROM python:3.11.14-slim-bookworm
ENV PATH=/opt/tunedeck/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    TUNEDECK_HOST=0.0.0.0 \
    TUNEDECK_PORT=8000 \
    TUNEDECK_DATA_DIR=/var/lib/tunedeck
RUN groupadd --system --gid 10001 tunedeck \
    && useradd --system --uid 10001 --gid tunedeck --no-log-init \
       --home-dir /var/lib/tunedeck --create-home --shell /usr/sbin/nologin tunedeck \
    && chmod 700 /var/lib/tunedeck
COPY --from=build /opt/tunedeck /opt/tunedeck
USER 10001:10001
WORKDIR /var/lib/tunedeck
EXPOSE 8000
# /healthz says the process answers (no curl in a slim image: Python's urllib).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:%s/healthz' % os.environ.get('TUNEDECK_PORT', '8000'), timeout=4)"]
ENTRYPOINT ["tunedeck"]
CMD ["serve"]

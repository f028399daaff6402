# syntax=docker/dockerfile:1
# One image: UI + API on one port. The build stage installs exactly the locked dependencies
# (uv.lock) and the project's wheel into /opt/venv and builds the frontend into /app; the
# runtime stage copies those two directories and the deployment scripts, nothing else.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    UV_NO_CACHE=1 \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=0
# uv installs from the lock; its version is the Makefile's UV_VERSION (a venv of its own:
# pip does not touch the base image's Python).
RUN python -m venv /opt/uv && /opt/uv/bin/pip install --no-compile uv==0.13.9
ENV PATH="/opt/venv/bin:/opt/uv/bin:${PATH}"
WORKDIR /src
# Dependencies first (a layer that changes only with the lock), then the project itself.
COPY pyproject.toml uv.lock README.md ./
RUN uv sync --locked --no-dev --no-install-project
COPY agentplatform ./agentplatform
COPY alembic ./alembic
COPY assets ./assets
COPY reflex.lock ./reflex.lock
COPY rxconfig.py alembic.ini ./
RUN uv sync --locked --no-dev --no-editable
# The frontend, built once for PORT (the URL the browser calls back is baked in at build);
# only its output is kept (node_modules served the build, not the app).
ARG PORT=3000
RUN SECRET_KEY=build-only-not-a-secret-0123456789abcdef DATA_DIR=/tmp/build-data APP_DIR=/app \
    PORT="${PORT}" agentplatform build-frontend \
    && rm -rf /tmp/build-data /app/.web/node_modules /app/.states

FROM python:3.11-slim-bookworm AS runtime
ARG PORT=3000
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:${PATH}" \
    ENVIRONMENT=production \
    DATA_DIR=/data \
    APP_DIR=/app \
    PORT=${PORT}
# tini: PID 1 that forwards SIGTERM to the whole process group (clean `docker stop`).
# postgresql-client: pg_dump/pg_restore for `agentplatform backup|restore` (Debian 12: v15,
# matching the postgres:15 server in docker-compose.yml; pg_dump must be >= the server).
# Versions follow the pinned Debian release rather than exact package pins.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends tini postgresql-client \
    && rm -rf /var/lib/apt/lists/*
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --shell /usr/sbin/nologin app \
    && mkdir -p /data \
    && chown app:app /data
WORKDIR /app
# Code and the built frontend stay root-owned: the app can't change what it runs.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
COPY deployment/entrypoint.sh deployment/backup.sh deployment/restore.sh /app/deployment/
USER 10001:10001
EXPOSE ${PORT}
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/api/ready\", timeout=4)"]
ENTRYPOINT ["tini", "-g", "--", "/app/deployment/entrypoint.sh"]

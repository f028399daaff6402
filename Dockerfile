# syntax=docker/dockerfile:1
# One image: UI + API on one port. Build stage installs the project and pre-builds the frontend.

FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
RUN python -m venv /opt/venv
ENV PATH="/opt/venv/bin:${PATH}"
COPY pyproject.toml README.md rxconfig.py alembic.ini ./
COPY agentplatform ./agentplatform
COPY alembic ./alembic
COPY assets ./assets
COPY reflex.lock ./reflex.lock
RUN pip install --no-compile . \
    && SECRET_KEY=build-only-not-a-secret-0123456789abcdef DATA_DIR=/tmp/build-data \
       reflex export --frontend-only --no-zip --env prod \
    && rm -rf /tmp/build-data .web/node_modules/.cache

FROM python:3.11-slim-bookworm AS runtime
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH="/opt/venv/bin:${PATH}" \
    ENVIRONMENT=production \
    DATA_DIR=/data \
    PORT=3000
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
COPY --from=build --chown=app:app /opt/venv /opt/venv
COPY --from=build --chown=app:app /app /app
COPY --chown=app:app deployment/entrypoint.sh deployment/backup.sh deployment/restore.sh \
    /app/deployment/
USER 10001:10001
EXPOSE 3000
VOLUME ["/data"]
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '3000')}/api/ready\", timeout=4)"]
ENTRYPOINT ["tini", "-g", "--", "/app/deployment/entrypoint.sh"]

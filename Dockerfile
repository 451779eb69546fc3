# syntax=docker/dockerfile:1
# Image for the petition site: one image runs the web server (default CMD), the Celery
# worker and Celery beat (see docker-compose.yml), each started as in the Procfile.

# --- Build stage: dependencies, translation catalogues, static files ------------------------
FROM python:3.12-slim-bookworm AS build

COPY --from=ghcr.io/astral-sh/uv:0.9 /uv /uvx /bin/

# gettext provides msgfmt for compilemessages; it stays in this stage only.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# The virtual environment lives outside the project tree so compilemessages does not walk it.
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=0

WORKDIR /app

# Dependency layer: only rebuilt when pyproject.toml or uv.lock change.
RUN --mount=type=cache,target=/root/.cache/uv \
    --mount=type=bind,source=uv.lock,target=uv.lock \
    --mount=type=bind,source=pyproject.toml,target=pyproject.toml \
    uv sync --frozen --no-dev --no-install-project

COPY . /app

# Build-only values: DEBUG=false selects the manifest static storage, which in turn requires
# SECRET_KEY and ALLOWED_HOSTS. They exist only for this RUN and are not kept in the image.
RUN mkdir -p locale \
    && DEBUG=false \
       SECRET_KEY=build-only-not-a-secret \
       ALLOWED_HOSTS=build.invalid \
       /opt/venv/bin/python manage.py compilemessages \
    && DEBUG=false \
       SECRET_KEY=build-only-not-a-secret \
       ALLOWED_HOSTS=build.invalid \
       /opt/venv/bin/python manage.py collectstatic --noinput \
    && /opt/venv/bin/python -m compileall -q /app

# --- Runtime stage ---------------------------------------------------------------------------
FROM python:3.12-slim-bookworm AS runtime

# Bytecode is compiled at build time (dependencies by uv, the project by compileall above), so
# no process compiles anything at run time.
ENV PATH="/opt/venv/bin:$PATH" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=petition.settings \
    PRIVATE_STORAGE_ROOT=/data/private \
    CELERY_BEAT_SCHEDULE_FILE=/tmp/celerybeat-schedule \
    WEB_BIND=0.0.0.0:8000 \
    WEB_ACCESS_LOG=-

# DejaVu Sans: the font of the printable PDF signatory lists (Latin, Cyrillic, Greek); without
# it they are set in the Libertinus Serif that the Typst compiler carries.
RUN apt-get update \
    && apt-get install -y --no-install-recommends fonts-dejavu-core \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --home-dir /app --no-create-home \
       --shell /usr/sbin/nologin app \
    && mkdir -p /data/private /data/static /data/public \
    && chown app:app /data/private /data/static /data/public \
    && chmod 0700 /data/private

# Code and virtual environment stay owned by root: the app user can read but not change them.
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app

WORKDIR /app
USER app

EXPOSE 8000

# Liveness: the process answers (a database outage is not the container's fault, and
# restarting it would not help). ops/probe.py names an allowed host and needs no Django.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-m", "ops.probe", "/healthz/live"]

# The one way to start the web processes (see the Procfile and petition/gunicorn.conf.py).
CMD ["gunicorn", "-c", "petition/gunicorn.conf.py", "petition.wsgi"]

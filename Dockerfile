# syntax=docker/dockerfile:1.7
# The hub's image: `make image` (docker build -t pysetl-hub .). Two stages:
#   build   resolves exactly what uv.lock pins (frozen), installs the server and the two packages
#           it needs (schemas, provenance) into /opt/venv, no dev tools, no editable installs;
#   runtime copies that environment alone onto a slim Python, runs as a non-root user, and keeps
#           its data and temporary files on volumes, so the root filesystem may be read-only.
# tests/deploy/test_image.py checks this file and the build context statically (no Docker
# engine runs on the CI machines).

FROM python:3.12-slim AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_PROJECT_ENVIRONMENT=/opt/venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
COPY pyproject.toml uv.lock ./
COPY schemas ./schemas
COPY provenance ./provenance
COPY server ./server
# A workspace member the lock names must be present to resolve, though it is not installed.
COPY client/pyproject.toml ./client/pyproject.toml
RUN uv sync --frozen --no-dev --no-editable --package pysetl-hub-server

FROM python:3.12-slim AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/pysetl-hub \
        --shell /usr/sbin/nologin hub \
    && mkdir -p /var/lib/pysetl-hub \
    && chown hub:hub /var/lib/pysetl-hub
COPY --from=build /opt/venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PYSETL_HUB_DATA_DIR=/var/lib/pysetl-hub \
    PYSETL_HUB_HOST=0.0.0.0 \
    PYSETL_HUB_PORT=8000
VOLUME ["/var/lib/pysetl-hub", "/tmp"]
USER 10001:10001
WORKDIR /var/lib/pysetl-hub
EXPOSE 8000
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["pysetl-hub-server", "serve"]

# syntax=docker/dockerfile:1
# obfbroker's image: `docker build -t obfbroker:local .`, or `podman build --format docker ...` (the
# OCI format has no HEALTHCHECK). `make image` builds and smoke-tests it (docs/deployment.md).
# One image for every process: `serve` (the default), `worker`, `zoomsim`, `db upgrade`, `keys ...`.
# Nothing secret is baked in: keys, database URL and the rest come from the environment at run time.

# --- build: the server's wheel, from this checkout (it needs nothing else of the repository) ---
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . && sha256sum /wheels/*.whl > /wheels.sha256

# --- runtime: the wheels installed on a clean Python, run as an unprivileged user -------------
FROM python:3.11-slim AS runtime
# OBFBROKER_STATUS_FILE: where serve, worker and zoomsim write which port they answer on, for
# `obfbroker healthcheck` (src/obfbroker/healthcheck.py).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    OBFBROKER_STATUS_FILE=/tmp/obfbroker-status.json
# The wheel's checksum, copied, is what makes a changed wheel a changed step: buildah (podman
# build) does not look into a bind mount to decide whether a cached RUN still holds.
COPY --from=build /wheels.sha256 /usr/local/share/obfbroker/wheels.sha256
RUN --mount=type=bind,from=build,source=/wheels,target=/wheels \
    pip install --no-cache-dir /wheels/*.whl
# The working directory is the user's home, writable by that user alone. Set
# OBFBROKER_DATABASE_URL and OBFBROKER_ENCRYPTION_KEYS: without them every command but `dev`
# stops with one line saying so (none creates ./var or a key on its own).
RUN useradd --system --uid 10001 --user-group --create-home --home-dir /var/lib/obfbroker \
    --shell /usr/sbin/nologin obfbroker
WORKDIR /var/lib/obfbroker
USER 10001:10001
EXPOSE 8000
# Asks whichever process this container runs, on whatever port it listens: serve's /healthz,
# the worker's /healthz on its metrics port, the simulator's /_sim/healthz (`--ready`: serve's
# /readyz, which compose.yaml uses).
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["obfbroker", "healthcheck"]
ENTRYPOINT ["obfbroker"]
CMD ["serve", "--host", "0.0.0.0"]

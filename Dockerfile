# syntax=docker/dockerfile:1
# obfbroker's image: `docker build -t obfbroker:local .` (docs/deployment.md).
# One image for every process: `serve` (the default), `worker`, `zoomsim`, `db upgrade`, `keys ...`.
# Nothing secret is baked in: keys, database URL and the rest come from the environment at run time.

# --- build: the server's and the client's wheels, from this checkout ---------------------------
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY clients/python ./clients/python
RUN pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . ./clients/python

# --- runtime: the wheels installed on a clean Python, run as an unprivileged user -------------
FROM python:3.11-slim AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
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
# For the default command (serve on 8000). The worker answers /healthz on its metrics port (8001)
# and the simulator listens on 8100: compose.yaml gives them checks of their own.
HEALTHCHECK --interval=10s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
ENTRYPOINT ["obfbroker"]
CMD ["serve", "--host", "0.0.0.0"]

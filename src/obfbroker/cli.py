"""The ``obfbroker`` command line (contract.md, CLI).

Failures of configuration or startup are one line on stderr and a non-zero exit (see
startup.py); ``--debug`` or ``OBFBROKER_DEBUG=1`` adds the traceback. Checks run before any
work, in an order that leaves nothing behind: settings and keys, the port, the database (its
file or a first connection), then migrations.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
import traceback
from typing import Annotated

import typer

from obfbroker import __version__
from obfbroker.settings import Settings, generate_key

app = typer.Typer(add_completion=False, no_args_is_help=True, pretty_exceptions_enable=False,
                  help="Zoom OBF token broker for meeting-bot platforms.")
db_app = typer.Typer(no_args_is_help=True, help="Database schema.")
accounts_app = typer.Typer(no_args_is_help=True, help="Customer accounts.")
keys_app = typer.Typer(no_args_is_help=True, help="Encryption keys for secrets at rest.")
bots_app = typer.Typer(no_args_is_help=True, help="Bots.")
app.add_typer(db_app, name="db")
app.add_typer(accounts_app, name="accounts")
app.add_typer(keys_app, name="keys")
app.add_typer(bots_app, name="bots")

HostOpt = Annotated[str, typer.Option(help="Interface to listen on")]
MigrateOpt = Annotated[bool, typer.Option(help="Apply migrations at start")]


class _Run:
    """What ``main`` needs to report a failure: the --debug flag and the settings in use."""

    debug = False
    settings: Settings | None = None


_run = _Run()


def _print_version(value: bool) -> None:
    if value:
        typer.echo(f"obfbroker {__version__}")
        raise typer.Exit()


@app.callback()
def _global_options(
    version: Annotated[bool, typer.Option("--version", is_eager=True, callback=_print_version,
                                          help="Print the version and exit.")] = False,
    debug: Annotated[bool, typer.Option("--debug", envvar="OBFBROKER_DEBUG",
                                        help="Show the traceback of a failure.")] = False,
) -> None:
    _run.debug = debug


def _settings(*, keys: bool = True) -> Settings:
    """The settings a command runs on; malformed or missing ones fail here, before any work."""
    settings = Settings()
    _run.settings = settings
    settings.check_database_url()
    settings.check_production_safety()
    if keys:
        settings.key_material()
    else:
        settings.check_encryption_keys()
    return settings


def _listening(host: str, port: int, how: str = "") -> None:
    shown = f"[{host}]" if ":" in host else host
    logging.getLogger("obfbroker.cli").info("listening on http://%s:%d%s", shown, port, how)


def _serve(asgi_app, sock, *, host: str, port: int, access_log: bool) -> None:
    import uvicorn

    # proxy_headers=False: uvicorn would believe X-Forwarded-For from any loopback peer; the app
    # believes it only from OBFBROKER_TRUSTED_PROXIES (app.py).
    config = uvicorn.Config(asgi_app, host=host, port=port, log_config=None, access_log=access_log,
                            proxy_headers=False)
    _listening(host, port)
    uvicorn.Server(config).run(sockets=[sock])


@app.command()
def serve(host: HostOpt = "127.0.0.1", port: Annotated[int, typer.Option()] = 8000,
          migrate: MigrateOpt = True,
          workers: Annotated[int | None, typer.Option(
              min=1, max=64, help="Processes sharing the port (default OBFBROKER_SERVE_WORKERS: the CPUs)",
          )] = None) -> None:
    """API, dashboard, hosted token endpoints and Zoom webhooks."""
    from obfbroker.startup import listen_socket, require_database

    settings = _settings()
    sock = listen_socket(host, port)
    _announce("serve", host, sock.getsockname()[1], live="/healthz", ready="/readyz")
    require_database(settings, may_create=migrate)

    from obfbroker.db.migrate import upgrade
    from obfbroker.logs import configure_logging

    configure_logging(settings.log_level)
    if migrate:
        upgrade(settings)

    count = workers or settings.serve_workers
    if count > 1:
        _serve_processes(count, sock, host=host, port=port)
        return

    from obfbroker.app import create_app

    _serve(create_app(settings), sock, host=host, port=port, access_log=True)


def _serve_processes(count: int, sock, *, host: str, port: int) -> None:
    """``count`` processes accepting on one socket, under uvicorn's supervisor (it restarts a
    process that dies and stops them all on SIGTERM or Ctrl-C). Each builds the app from the
    environment this process checked; the database is already migrated."""
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    config = uvicorn.Config("obfbroker.asgi:app_from_environment", factory=True, host=host, port=port,
                            workers=count, log_config=None, access_log=True, proxy_headers=False)
    _listening(host, port, f" with {count} processes")
    Multiprocess(config, sockets=[sock]).run()


@app.command()
def worker(migrate: MigrateOpt = True) -> None:
    """Background loops: connection keep-alive and customer webhook delivery."""
    from obfbroker.startup import require_database

    settings = _settings()
    require_database(settings, may_create=migrate)

    from obfbroker.db.migrate import upgrade
    from obfbroker.logs import configure_logging
    from obfbroker.worker import run_worker

    configure_logging(settings.log_level)
    if migrate:
        upgrade(settings)
    _announce("worker", settings.worker_metrics_host, settings.worker_metrics_port, live="/healthz")
    asyncio.run(run_worker(settings))


@app.command()
def zoomsim(host: HostOpt = "127.0.0.1", port: Annotated[int, typer.Option()] = 8100,
            seed: Annotated[str | None, typer.Option(help="'demo': a demo app and users")] = None) -> None:
    """The Zoom simulator (OAuth, REST API and /_sim control API)."""
    from obfbroker.startup import CONFIGURATION_EXIT, StartupError, listen_socket

    if seed not in (None, "demo"):
        raise StartupError(f"unknown --seed {seed!r}; use 'demo' or leave it out", CONFIGURATION_EXIT)
    sock = listen_socket(host, port)
    _announce("zoomsim", host, sock.getsockname()[1], live="/_sim/healthz")

    from obfbroker.logs import configure_logging
    from obfbroker.zoomsim.app import create_app

    configure_logging("INFO")
    _serve(create_app(seed=seed), sock, host=host, port=port, access_log=False)


def _announce(command: str, host: str, port: int, *, live: str, ready: str | None = None) -> None:
    """Where this process answers, for `obfbroker healthcheck` (healthcheck.py); port 0: none."""
    from obfbroker.healthcheck import announce, local_base_url

    announce(command, base_url=local_base_url(host, port) if port else None, live=live, ready=ready)


@app.command()
def healthcheck(
    ready: Annotated[bool, typer.Option(
        help="serve: ask /readyz (the database answers too) instead of /healthz")] = False,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for the answer")] = 4.0,
    status_file: Annotated[str | None, typer.Option(
        envvar="OBFBROKER_STATUS_FILE", show_default=False,
        help="The file serve, worker and zoomsim write (default OBFBROKER_STATUS_FILE; the image sets it)",
    )] = None,
) -> None:
    """Exit 0 if the obfbroker process of this container answers on its own port, else 1."""
    from obfbroker.healthcheck import check

    ok, line = check(status_file, ready=ready, timeout=timeout)
    typer.echo(line, err=not ok)
    raise typer.Exit(0 if ok else 1)


@app.command()
def dev(host: HostOpt = "127.0.0.1", port: Annotated[int, typer.Option()] = 8000,
        sim_port: Annotated[int, typer.Option()] = 8100,
        example_port: Annotated[int, typer.Option(help="The Python example callback app")] = 5005,
        node_port: Annotated[int, typer.Option(help="Allow-listed for the Node example")] = 5006) -> None:
    """Everything in one command on SQLite under ./var (what `make run` starts)."""
    from obfbroker.devstack import run_dev

    raise typer.Exit(run_dev(host=host, port=port, sim_port=sim_port, example_port=example_port,
                             node_port=node_port))


@db_app.command("upgrade")
def db_upgrade() -> None:
    """Apply every pending migration (creates a SQLite file you named, never its folder)."""
    from obfbroker.startup import require_database

    settings = _settings(keys=False)
    require_database(settings, may_create=True)

    from obfbroker.db.migrate import upgrade

    upgrade(settings)
    typer.echo("database is up to date")


async def _with_runtime(settings: Settings, work):
    from obfbroker.runtime import Runtime

    runtime = await Runtime.start(settings)
    try:
        return await work(runtime)
    finally:
        await runtime.close()


@accounts_app.command("create")
def accounts_create(name: Annotated[str, typer.Option(help="Account name")]) -> None:
    """Create an account; prints {"account_id", "api_key"} (the key is shown only here)."""
    from obfbroker.startup import CONFIGURATION_EXIT, StartupError, require_database

    if not name.strip():
        raise StartupError("--name must not be empty", CONFIGURATION_EXIT)
    settings = _settings()
    require_database(settings, may_create=True)

    from obfbroker.accounts.service import create_account
    from obfbroker.db.migrate import upgrade
    from obfbroker.db.session import transaction

    upgrade(settings)

    async def work(runtime):
        async with transaction(runtime.sessions) as session:
            account, key = await create_account(session, runtime.hasher, name=name.strip(),
                                                    now=runtime.clock.now())
            return {"account_id": account.id, "api_key": key}

    typer.echo(json.dumps(asyncio.run(_with_runtime(settings, work))))


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random encryption key (base64url, 32 bytes)."""
    typer.echo(generate_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored secret under the first key of OBFBROKER_ENCRYPTION_KEYS."""
    from obfbroker.startup import require_database

    settings = _settings()
    require_database(settings, may_create=False)

    from obfbroker.db.migrate import upgrade
    from obfbroker.keys import rotate

    upgrade(settings)
    count = asyncio.run(_with_runtime(settings, lambda rt: rotate(rt.sessions, rt.vault)))
    typer.echo(json.dumps({"resealed": count}))


@bots_app.command("launch-spec")
def bots_launch_spec(bot_id: Annotated[str, typer.Argument(help="The bot's id (bot_...)")]) -> None:
    """Print what a bot runtime is handed, as one JSON object (contains the bot's secret)."""
    from obfbroker.startup import StartupError, require_database

    settings = _settings()
    require_database(settings, may_create=False)

    from obfbroker.bots.service import launch_spec
    from obfbroker.errors import ObfError

    async def work(runtime):
        async with runtime.sessions() as session:
            return (await launch_spec(session, runtime.hasher, bot_id)).as_dict()

    try:
        typer.echo(json.dumps(asyncio.run(_with_runtime(settings, work))))
    except ObfError as err:
        raise StartupError(err.detail) from None


def main() -> None:
    """The console script: every failure of a command is one line (see startup.py)."""
    try:
        app()
    except Exception as exc:
        from obfbroker.startup import describe

        if _run.debug:
            traceback.print_exception(exc)
        message, status = describe(exc, _run.settings)
        print(f"obfbroker: {message}", file=sys.stderr)
        sys.exit(status)

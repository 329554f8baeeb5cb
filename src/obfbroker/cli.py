"""The ``obfbroker`` command line (contract.md, CLI)."""

from __future__ import annotations

import asyncio
import json
import sys
from typing import Annotated

import typer

from obfbroker.settings import ConfigurationError, Settings, generate_key

app = typer.Typer(add_completion=False, no_args_is_help=True,
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


def _settings() -> Settings:
    try:
        settings = Settings()
        settings.check_production_safety()
        return settings
    except ConfigurationError as err:
        typer.echo(f"configuration error: {err}", err=True)
        raise typer.Exit(2) from None


@app.command()
def serve(host: HostOpt = "127.0.0.1", port: Annotated[int, typer.Option()] = 8000,
          migrate: Annotated[bool, typer.Option(help="Apply migrations at start")] = True) -> None:
    """API, dashboard, hosted token endpoints and Zoom webhooks."""
    import uvicorn

    from obfbroker.app import create_app
    from obfbroker.db.migrate import upgrade
    from obfbroker.logs import configure_logging

    settings = _settings()
    configure_logging(settings.log_level)
    if migrate:
        upgrade(settings)
    uvicorn.run(create_app(settings), host=host, port=port, log_config=None, access_log=True)


@app.command()
def worker(migrate: Annotated[bool, typer.Option(help="Apply migrations at start")] = True) -> None:
    """Background loops: connection keep-alive and customer webhook delivery."""
    from obfbroker.db.migrate import upgrade
    from obfbroker.logs import configure_logging
    from obfbroker.worker import run_worker

    settings = _settings()
    configure_logging(settings.log_level)
    if migrate:
        upgrade(settings)
    asyncio.run(run_worker(settings))


@app.command()
def zoomsim(host: HostOpt = "127.0.0.1", port: Annotated[int, typer.Option()] = 8100,
            seed: Annotated[str | None, typer.Option(help="'demo': a demo app and users")] = None) -> None:
    """The Zoom simulator (OAuth, REST API and /_sim control API)."""
    import uvicorn

    from obfbroker.logs import configure_logging
    from obfbroker.zoomsim.app import create_app

    configure_logging("INFO")
    uvicorn.run(create_app(seed=seed), host=host, port=port, log_config=None, access_log=False)


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
    """Apply every pending migration."""
    from obfbroker.db.migrate import upgrade

    upgrade(_settings())
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
    from obfbroker.accounts.service import create_account
    from obfbroker.db.migrate import upgrade
    from obfbroker.db.session import transaction

    if not name.strip():
        typer.echo("--name must not be empty", err=True)
        raise typer.Exit(2)
    settings = _settings()
    upgrade(settings)

    async def work(runtime):
        async with transaction(runtime.sessions) as session:
            account, key = await create_account(session, runtime.hasher, name=name.strip())
            return {"account_id": account.id, "api_key": key}

    typer.echo(json.dumps(asyncio.run(_with_runtime(settings, work))))


@keys_app.command("generate")
def keys_generate() -> None:
    """Print a new random encryption key (base64url, 32 bytes)."""
    typer.echo(generate_key())


@keys_app.command("rotate")
def keys_rotate() -> None:
    """Re-encrypt every stored secret under the first key of OBFBROKER_ENCRYPTION_KEYS."""
    from obfbroker.db.migrate import upgrade
    from obfbroker.keys import rotate

    settings = _settings()
    upgrade(settings)
    count = asyncio.run(_with_runtime(settings, lambda rt: rotate(rt.sessions, rt.vault)))
    typer.echo(json.dumps({"resealed": count}))


@bots_app.command("launch-spec")
def bots_launch_spec(bot_id: Annotated[str, typer.Argument(help="The bot's id (bot_...)")]) -> None:
    """Print what a bot runtime is handed, as one JSON object (contains the bot's secret)."""
    from obfbroker.bots.service import launch_spec
    from obfbroker.errors import ObfError

    settings = _settings()

    async def work(runtime):
        async with runtime.sessions() as session:
            return (await launch_spec(session, runtime, bot_id)).as_dict()

    try:
        typer.echo(json.dumps(asyncio.run(_with_runtime(settings, work))))
    except ObfError as err:
        typer.echo(err.detail, err=True)
        raise typer.Exit(1) from None


def main() -> None:
    try:
        app()
    except ConfigurationError as err:
        print(f"configuration error: {err}", file=sys.stderr)
        sys.exit(2)

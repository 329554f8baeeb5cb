"""The API as an import string (``obfbroker.asgi:app_from_environment``), for the processes
``obfbroker serve --workers N`` starts: each reads the same ``OBFBROKER_*`` environment as the
parent, which has already checked it and migrated the database. Each is tied to that parent: if
the supervisor dies, even by SIGKILL, its processes get SIGTERM and stop (obfbroker.lifeline)."""

from __future__ import annotations

from fastapi import FastAPI


def app_from_environment() -> FastAPI:
    import multiprocessing

    from obfbroker.lifeline import tie_to_parent

    supervisor = multiprocessing.parent_process()
    if supervisor is not None and supervisor.pid is not None:
        tie_to_parent(supervisor.pid)

    from obfbroker.app import create_app
    from obfbroker.logs import configure_logging
    from obfbroker.settings import Settings

    settings = Settings()
    configure_logging(settings.log_level)
    return create_app(settings)

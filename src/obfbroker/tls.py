"""One TLS trust store per process for obfbroker's outgoing HTTP clients.

httpx builds a fresh ``SSLContext`` for every client it creates, which means reading and parsing
the whole CA bundle: about 35 ms of CPU each time. A runtime, the worker, the runner and every
delivery round make clients, so the context is built once here and shared. It honours
``SSL_CERT_FILE`` / ``SSL_CERT_DIR`` as httpx does, and it is never changed after it is built, so
sharing it between clients and threads is safe.
"""

from __future__ import annotations

import functools
import ssl

import httpx


@functools.cache
def client_context() -> ssl.SSLContext:
    return httpx.create_ssl_context()

"""What test clients share: one TLS context (httpx would otherwise read the CA bundle again for
every client a test makes, about 35 ms of CPU each, even for plain-HTTP loopback clients)."""

from __future__ import annotations

import functools

import httpx

TLS = httpx.create_ssl_context()

# One-off requests with that context (httpx.get and friends build a client per call).
http_get = functools.partial(httpx.get, verify=TLS)
http_post = functools.partial(httpx.post, verify=TLS)

"""Prometheus metrics: one registry per runtime (recorder.py), which registers the gauges read
from the database at scrape time (``obfbroker.gauges``), the HTTP middleware (http.py) and the
worker's endpoint (server.py).
Every family and its labels are listed in docs/operations.md, "Metrics"."""

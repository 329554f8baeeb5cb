"""Zoom simulator: plays zoom.us (OAuth, REST API, meetings, webhooks) for tests and the offline demo.

Self-contained: imports nothing from the rest of obfbroker. Entry point: `app.create_app`.
"""

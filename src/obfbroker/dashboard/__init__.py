"""The user dashboard at /dashboard: server-rendered pages over the same services as the API."""

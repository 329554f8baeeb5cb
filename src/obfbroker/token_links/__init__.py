"""Token links: obfbroker as the Zoom token URL of any bot platform (docs/platforms.md)."""

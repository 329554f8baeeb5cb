"""obfbroker: Zoom on-behalf-of (OBF) token broker for meeting-bot platforms."""

__version__ = "0.1.0"

"""Re-exports the public names of ``obfbroker_client.errors`` (see ``obfbroker.client``)."""

from obfbroker_client.errors import *  # noqa: F403
from obfbroker_client.errors import __all__  # noqa: F401

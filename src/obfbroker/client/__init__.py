"""``obfbroker.client``: the Python client, kept importable under the server's name.

The client is its own distribution, ``obfbroker-client`` (``clients/python`` in the repository),
imported as ``obfbroker_client``; it needs only httpx, so an application that talks to obfbroker
installs it alone. The server depends on it and re-exports it here, so existing
``from obfbroker.client import ObfBrokerClient`` code keeps working. New code should import
``obfbroker_client``.
"""

from obfbroker_client import *  # noqa: F403
from obfbroker_client import __all__  # noqa: F401

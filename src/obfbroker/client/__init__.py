"""``obfbroker.client``: the Python client, kept importable under the server's name.

The client is its own distribution, ``obfbroker-client`` (``clients/python`` in the repository),
imported as ``obfbroker_client``; it needs only httpx, so an application that talks to obfbroker
installs it alone. The server does not depend on it (it is on no package index, and the server
must install from its own directory or wheel), but re-exports it here where it is installed, so
existing ``from obfbroker.client import ObfBrokerClient`` code keeps working. Where it is not,
importing this module raises an ImportError that says how to install it. New code should import
``obfbroker_client``.
"""

try:
    from obfbroker_client import *  # noqa: F403
    from obfbroker_client import __all__  # noqa: F401
except ModuleNotFoundError as missing:
    if missing.name != "obfbroker_client":
        raise
    raise ModuleNotFoundError(
        "obfbroker.client is the Python client, a distribution of its own (obfbroker-client) that "
        "the server does not install: pip install ./clients/python from a checkout of obfbroker "
        "(or pip install obfbroker-client where your index has it), then import obfbroker_client",
        name="obfbroker_client",
    ) from None

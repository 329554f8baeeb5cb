"""Re-exports the public names of ``obfbroker_client.models`` (see ``obfbroker.client``)."""

from obfbroker_client.models import *  # noqa: F403
from obfbroker_client.models import __all__  # noqa: F401

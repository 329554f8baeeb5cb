"""Everything that talks to Zoom or parses what Zoom sends (see ``client`` and ``errors``)."""

"""The bot runner: launches bots and joins them to meetings through a meeting adapter."""

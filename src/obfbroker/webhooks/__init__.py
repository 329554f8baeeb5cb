"""Customer webhooks: the endpoint each account configures, the outbox, delivery and its log."""

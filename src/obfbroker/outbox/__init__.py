"""The outbox: events written with the change that caused them, for ``webhooks.delivery`` to send.
Domains emit into it (``outbox.service.emit``) without knowing about webhooks."""

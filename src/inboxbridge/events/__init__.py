"""What happened to mail and mailboxes, written in the same transaction as the change (the
transactional outbox the webhooks deliver from)."""

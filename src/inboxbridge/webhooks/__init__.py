"""Webhooks: endpoints that applications register, and the signed deliveries of the events
(Standard Webhooks) to them, retried for a day and kept in order per mailbox."""

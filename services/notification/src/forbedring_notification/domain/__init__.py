"""Pure rules of the notification service: who gets what (`recipients`), the idempotency
keys and Message-IDs (`kinds`), participation figures (`participation`), and when
(`schedule`). No I/O, no framework."""

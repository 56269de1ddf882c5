"""Webhooks: subscriptions (`services`), who sees which change (`audience`), the outbox
dispatcher (`dispatch`) and the guarded HTTP send (`send`)."""

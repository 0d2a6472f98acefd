"""Delivery: workers take messages by key after commit (TODO: retries, backoff, sweep)."""


def queue_delivery(keys: list[str]) -> None:
    """Placeholder until the delivery side lands: messages stay pending."""

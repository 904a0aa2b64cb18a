"""The two-level label set: which mailbox stream an email belongs to, and what it asks for."""

from __future__ import annotations

#: Every intent and the stream it belongs to. Order is the model's class order.
INTENT_STREAM: dict[str, str] = {
    "price_enquiry": "crm",
    "sample_request": "crm",
    "new_business": "crm",
    "purchase_order": "erp",
    "order_status": "erp",
    "invoice_payment": "erp",
    "coa_request": "erp",
    "quality_complaint": "erp",
    "tender_notice": "tender",
    "newsletter_spam": "other",
    "auto_reply": "other",
}
INTENTS: tuple[str, ...] = tuple(INTENT_STREAM)
STREAMS: tuple[str, ...] = ("crm", "erp", "tender", "other")


def stream_of(intent: str) -> str:
    """The stream an intent belongs to; raises ValueError for an unknown intent."""
    try:
        return INTENT_STREAM[intent]
    except KeyError:
        raise ValueError(
            f"unknown intent {intent!r}; expected one of {', '.join(INTENTS)}"
        ) from None


def check_label(stream: str, intent: str) -> None:
    """Raise ValueError unless (stream, intent) is a valid, consistent pair."""
    if stream not in STREAMS:
        raise ValueError(f"unknown stream {stream!r}; expected one of {', '.join(STREAMS)}")
    if stream_of(intent) != stream:
        raise ValueError(
            f"intent {intent!r} belongs to stream {stream_of(intent)!r}, not {stream!r}"
        )

from ml.text import classification_text, extraction_text, strip_signature


def test_reply_history_and_quotes_are_dropped() -> None:
    body = (
        "maal kab aayega?\n\n"
        "On Mon, 3 Nov 2025 at 10:02, Sales <sales@pebbledemo.in> wrote:\n"
        "> Your order is confirmed.\n"
    )
    assert classification_text("Re: order", body) == "Re: order\nmaal kab aayega?"


def test_outlook_original_message_is_dropped() -> None:
    body = "Please send COA.\n-----Original Message-----\nFrom: qc@x.in\nSubject: dispatch\nold"
    assert classification_text("", body) == "Please send COA."


def test_forward_with_nothing_above_keeps_the_forwarded_text() -> None:
    body = "---------- Forwarded message ---------\nFrom: a@b.in\nWe need 5 MT zinc oxide."
    assert "We need 5 MT zinc oxide." in classification_text("Fwd: enquiry", body)


def test_mobile_footer_is_not_content() -> None:
    assert classification_text("rate", "rate bhejo\n\nSent from my iPhone") == "rate\nrate bhejo"


def test_signature_is_trimmed_for_classification_but_kept_for_extraction() -> None:
    body = "Please quote for caustic soda.\n\nThanks & Regards,\nRamesh\nGSTIN 27AAPFU0939F1ZV"
    assert strip_signature(body) == "Please quote for caustic soda."
    assert "GSTIN" not in classification_text("Rate", body)
    assert "27AAPFU0939F1ZV" in extraction_text("Rate", body)
    assert extraction_text("Rate", body) == "Rate\n" + body  # the extractor masks quotes itself
    assert classification_text("Rate", body).startswith("Rate\n")


def test_regarding_is_not_a_sign_off() -> None:
    body = "Hello\nRegarding your quotation for stearic acid, please revise the price."
    assert "revise the price" in strip_signature(body)


def test_empty_input_gives_empty_text() -> None:
    assert classification_text(None, None) == ""

import numpy as np
import pytest

from ml.classifier import decide, load_classifier
from ml.settings import get_ml_settings
from ml.taxonomy import INTENTS, stream_of

EMAILS = [
    ("Rate required", "Please quote your best price for 5 MT zinc oxide, delivery Pune."),
    ("Re: order", "maal kab aayega? gaadi abhi tak nahi aayi"),
    ("hello", "ok"),
]


def _row(**probs: float) -> np.ndarray:
    return np.array([[probs.get(i, 0.0) for i in INTENTS]])


def test_threshold_flags_low_confidence() -> None:
    probs = np.vstack(
        [
            _row(price_enquiry=0.59, purchase_order=0.41),
            _row(price_enquiry=0.61, purchase_order=0.39),
        ]
    )
    low, high = decide(probs, INTENTS, threshold=0.6)
    assert low.requires_review and not high.requires_review
    assert decide(probs, INTENTS, threshold=0.0)[0].requires_review is False


def test_stream_is_chosen_first_and_intent_stays_inside_it() -> None:
    # Best single intent is purchase_order (erp) but crm as a whole is more likely.
    probs = _row(purchase_order=0.4, price_enquiry=0.35, sample_request=0.25)
    (result,) = decide(probs, INTENTS, threshold=0.6)
    assert result.stream == "crm" and result.intent == "price_enquiry"
    assert result.stream_confidence == pytest.approx(0.6)
    assert result.confidence == pytest.approx(0.35) and result.requires_review


def test_other_with_some_business_probability_goes_to_review() -> None:
    probs = np.vstack(
        [
            _row(newsletter_spam=0.90, auto_reply=0.06, price_enquiry=0.04),
            _row(newsletter_spam=0.90, new_business=0.06, auto_reply=0.04),
            _row(newsletter_spam=0.90, auto_reply=0.09, tender_notice=0.01),
            _row(price_enquiry=0.90, new_business=0.06, newsletter_spam=0.04),
        ]
    )
    sure, unsure, sure_other, business = decide(probs, INTENTS, threshold=0.6, lead_floor=0.05)
    assert sure.stream == "other" and not sure.requires_review  # 4% business: filed
    assert unsure.stream == "other" and unsure.requires_review  # 6% business: a second look
    assert sure_other.stream == "other" and not sure_other.requires_review
    assert business.stream == "crm" and not business.requires_review  # only `other` is held
    assert decide(probs, INTENTS, threshold=0.6, lead_floor=1.0)[1].requires_review is False


def test_review_threshold_comes_from_the_environment(home_with_model, monkeypatch) -> None:
    clf = load_classifier(home=home_with_model)

    monkeypatch.setenv("PEBBLE_LEAD_REVIEW_FLOOR", "1")  # only the threshold flags here

    def classify_with(threshold: str):
        monkeypatch.setenv("PEBBLE_REVIEW_THRESHOLD", threshold)
        get_ml_settings.cache_clear()
        try:
            return clf.classify(EMAILS)
        finally:
            get_ml_settings.cache_clear()

    results = classify_with("0")
    assert not any(r.requires_review for r in results)
    confidences = sorted(r.confidence for r in results)
    assert confidences[0] < confidences[-1]  # "hello / ok" is less certain than a rate enquiry
    middle = (confidences[0] + confidences[-1]) / 2
    flagged = classify_with(str(middle))
    assert [r.requires_review for r in flagged] == [r.confidence < middle for r in results]
    assert any(r.requires_review for r in flagged) and not all(r.requires_review for r in flagged)
    assert all(stream_of(r.intent) == r.stream for r in results)
    assert all(r.confidence <= r.stream_confidence for r in results)


def test_bad_threshold_is_refused(monkeypatch) -> None:
    monkeypatch.setenv("PEBBLE_REVIEW_THRESHOLD", "1.5")
    get_ml_settings.cache_clear()
    try:
        with pytest.raises(ValueError):
            get_ml_settings()
    finally:
        get_ml_settings.cache_clear()


def test_other_mail_with_business_evidence_goes_to_review() -> None:
    from ml.extract import Entity
    from ml.pipeline import lead_at_risk

    quantity = Entity("QUANTITY", "5 MT", 5000.0, 0, 4)
    order = {"label": "ORDER_NO", "text": "SO/25-26/01877", "value": "SO/25-26/01877"}
    gstin = Entity("GSTIN", "27AAPFU0939F1ZV", "27AAPFU0939F1ZV", 0, 15, True)
    product = Entity("PRODUCT", "ZnO", "Zinc Oxide", 0, 3)
    assert lead_at_risk("other", [quantity]) and lead_at_risk("other", [order])
    assert lead_at_risk("other", [gstin])  # a firm introducing itself by its registration
    assert not lead_at_risk("other", [product])  # market newsletters name products too
    assert not lead_at_risk("crm", [quantity]) and not lead_at_risk("other", [])

"""Ask Pebble's offline router falls back to the trained mail classifier for a question
with no cue word (ml.assistant.router.classifier_intent): the session's model, trained on
the generated corpus, reads the question as a customer's mail and its intent picks the
read tool. Without a trained model the router does not guess which figures to read.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from ml.assistant.router import CUES, INTENT_TOOLS, MIN_INTENT_CONFIDENCE, Router, classifier_intent
from pebble.settings import get_settings

# No cue word of the router's (price, stock, order, invoice, QC...): only the classifier can
# say what each asks for. Phrased as customers write, not copied from any evaluation set.
QUESTIONS = {
    "last_prices": "Please quote for 2 MT Zinc Oxide for Sandhu Plastics, delivery Ludhiana",
    "receivables": "Sandhu Plastics says the NEFT of Rs 4,12,000 went on Friday against "
    "bill 1183, please confirm it has reached your account",
    "open_orders": "Sandhu Plastics wants to know when their material will be despatched",
}


@pytest.fixture
def home(home_with_model: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("PEBBLE_HOME", str(home_with_model))
    get_settings.cache_clear()
    yield home_with_model
    get_settings.cache_clear()


def test_the_questions_carry_no_cue_word() -> None:
    for question in QUESTIONS.values():
        assert not any(cue.search(question) for _tool, cue in CUES), question


def test_the_trained_classifier_picks_the_read_tool(home: Path) -> None:
    for tool, question in QUESTIONS.items():
        guess = classifier_intent(question)
        assert guess is not None, "the session's model did not load"
        intent, confidence = guess
        assert 0.0 <= confidence <= 1.0
        assert INTENT_TOOLS.get(intent) == tool, (question, intent, confidence)
        assert confidence >= MIN_INTENT_CONFIDENCE, (question, intent, confidence)
    # the router puts the company the question names in the call
    route = Router().route(QUESTIONS["last_prices"])
    assert [name for name, _args in route.calls] == ["last_prices"], route
    assert "sandhu" in str(route.calls[0][1].get("company", "")).lower()


def test_without_a_model_a_question_without_a_cue_reads_no_figures(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """No model, no guess: at most a company search, never prices, orders or receivables."""
    monkeypatch.setenv("PEBBLE_HOME", str(tmp_path / "empty-home"))
    get_settings.cache_clear()
    try:
        for question in QUESTIONS.values():
            assert classifier_intent(question) is None
            route = Router().route(question)
            assert {name for name, _args in route.calls} <= {"find_company"}, route
    finally:
        get_settings.cache_clear()

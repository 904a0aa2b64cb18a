import numpy as np

from ml.classifier import softmax
from ml.metrics import expected_calibration_error, reliability_bins
from ml.train import ModelArtifact, fit_temperature


def test_ece_of_known_cases() -> None:
    assert expected_calibration_error([0.9] * 10, [True] * 9 + [False]) < 1e-9
    assert abs(expected_calibration_error([0.9] * 10, [True] * 5 + [False] * 5) - 0.4) < 1e-9


def test_temperature_recovers_a_known_overconfidence() -> None:
    rng = np.random.default_rng(0)
    logits = rng.normal(0, 4, size=(4000, 5))
    true_temperature = 2.5
    probs = softmax(logits / true_temperature)
    targets = np.array([rng.choice(5, p=p) for p in probs])
    fitted = fit_temperature(logits, targets)
    assert abs(fitted - true_temperature) < 0.3
    before = expected_calibration_error(
        softmax(logits).max(1), softmax(logits).argmax(1) == targets
    )
    scaled = softmax(logits / fitted)
    after = expected_calibration_error(scaled.max(1), scaled.argmax(1) == targets)
    assert after < before / 3 and after < 0.03


def test_model_is_calibrated_on_heldout_split(artifact: ModelArtifact) -> None:
    report = artifact.metrics["heldout"]["transformer"]
    assert report["ece"] < 0.08
    calibration = (artifact.path / "calibration.json").read_text()
    assert "temperature" in calibration
    bins = [b for b in report["reliability"] if b["n"] >= 10]
    # Accuracy rises with confidence: each well-populated bin is at least as accurate as the
    # ones below it, within sampling noise.
    for low, high in zip(bins, bins[1:], strict=False):
        assert high["accuracy"] >= low["accuracy"] - 0.1


def test_reliability_bins_partition_predictions() -> None:
    conf = [0.1, 0.3, 0.5, 0.7, 0.95, 0.99]
    rows = reliability_bins(conf, [False, False, True, True, True, True], bins=5)
    assert sum(r["n"] for r in rows) == len(conf)
    assert rows[-1]["accuracy"] == 1.0 and rows[0]["accuracy"] == 0.0

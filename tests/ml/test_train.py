import json

import numpy as np
import pytest

from ml import store
from ml.data import LabelledEmail
from ml.encoder import EncoderConfig, get_encoder
from ml.finetune import FineTuneConfig
from ml.taxonomy import INTENTS, stream_of
from ml.train import (
    ENCODER_WEIGHTS,
    ModelArtifact,
    TrainConfig,
    fingerprint,
    stratified_split,
    train,
)

#: Enough fine-tuning to exercise the code path on a few hundred emails, in seconds.
QUICK = TrainConfig(finetune=FineTuneConfig(epochs=1, min_steps=4))


def test_artifact_is_complete_and_latest(artifact: ModelArtifact, model_home) -> None:
    for name in (
        "head.npz",
        "labels.json",
        "encoder.json",
        "calibration.json",
        "metrics.json",
        "training.json",
        ENCODER_WEIGHTS,
    ):
        assert (artifact.path / name).is_file(), name
    assert artifact.path.name == artifact.version
    assert store.latest_version(model_home) == artifact.version
    encoder = json.loads((artifact.path / "encoder.json").read_text())
    assert encoder["model"] == "sentence-transformers/all-MiniLM-L6-v2"
    assert len(encoder["weights_sha256"]) == 64
    assert encoder["fine_tuned"] and encoder["weights_file"] == ENCODER_WEIGHTS
    training = json.loads((artifact.path / "training.json").read_text())
    assert training["config"]["finetune"]["enabled"] and training["n_calibration"] > 100
    labels = json.loads((artifact.path / "labels.json").read_text())
    assert set(labels["intents"]) == set(INTENTS)  # the small world covers every intent
    assert all(stream_of(i) == s for i, s in labels["intent_stream"].items())


def test_heldout_metrics_for_both_models(artifact: ModelArtifact) -> None:
    heldout = artifact.metrics["heldout"]
    assert set(heldout) == {"transformer", "baseline"}
    for report in heldout.values():
        assert report["n"] > 50
        assert 0.0 <= report["ece"] <= 1.0
    # Generated mail is regular enough that held-out accuracy is high for the encoder.
    assert heldout["transformer"]["stream_macro_f1"] >= 0.95


def test_split_is_stratified_deterministic_and_keeps_corrections() -> None:
    labels = ["a"] * 40 + ["b"] * 20 + ["c"] * 3
    locked = [False] * 62 + [True]
    train_a, test_a = stratified_split(labels, 0.25, seed=1, locked=locked)
    train_b, test_b = stratified_split(labels, 0.25, seed=1, locked=locked)
    assert np.array_equal(test_a, test_b) and np.array_equal(train_a, train_b)
    test_labels = [labels[i] for i in test_a]
    assert test_labels.count("a") == 10 and test_labels.count("b") == 5
    assert "c" not in test_labels  # too rare to hold out
    assert 62 not in test_a
    assert sorted(train_a.tolist() + test_a.tolist()) == list(range(63))


def test_fingerprint_tracks_data_and_config() -> None:
    ex = [LabelledEmail("1", "Rate", "quote zinc oxide", "crm", "price_enquiry")]
    identity = get_encoder(EncoderConfig()).identity()
    base = fingerprint(ex, TrainConfig(), identity)
    assert base == fingerprint(list(ex), TrainConfig(), dict(identity))
    changed = [LabelledEmail("1", "Rate", "quote zinc oxide", "crm", "sample_request")]
    assert fingerprint(changed, TrainConfig(), identity) != base
    assert fingerprint(ex, TrainConfig(c=1.0), identity) != base
    assert fingerprint(ex, TrainConfig(encoder=EncoderConfig(max_length=128)), identity) != base
    tuned = TrainConfig(finetune=FineTuneConfig(epochs=4))
    assert fingerprint(ex, tuned, identity) != base
    frozen = TrainConfig(finetune=FineTuneConfig(enabled=False))
    assert fingerprint(ex, frozen, identity) != base


def test_served_model_reproduces_the_training_embeddings(artifact: ModelArtifact) -> None:
    """The stored fine-tuned weights are the ones served: held-out metrics come out the same
    when the artifact is loaded from disk, and one pass gives unit-length 384-d vectors."""
    from ml.classifier import EmailClassifier

    clf = EmailClassifier(artifact.path)
    base = get_encoder(EncoderConfig())
    texts = ["Please quote your best rate for 2 MT titanium dioxide", "maal kab aayega?"]
    decisions, vectors = clf.classify_texts(texts, threshold=0.6)
    assert vectors.shape == (2, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert not np.allclose(vectors, base.encode(texts), atol=1e-3)  # not the stock encoder
    assert decisions[0].stream == "crm"


def test_frozen_encoder_still_trains(world_examples, tmp_path) -> None:
    config = TrainConfig(finetune=FineTuneConfig(enabled=False))
    frozen = train(world_examples[:220], config=config, home=tmp_path)
    assert not (frozen.path / ENCODER_WEIGHTS).exists()
    assert "weights_file" not in json.loads((frozen.path / "encoder.json").read_text())
    assert frozen.load().classify([("Rate", "quote zinc oxide")])[0].stream in {"crm", "erp"}


def test_same_data_same_version_different_data_new_version(world_examples, tmp_path) -> None:
    subset = world_examples[:220]
    first = train(subset, config=QUICK, home=tmp_path)
    again = train(subset, config=QUICK, home=tmp_path)
    assert again.version == first.version and again.reused
    assert sorted(p.name for p in (tmp_path / "models" / "classifier").iterdir()) == sorted(
        [first.version, "latest"]
    )
    corrected = train(
        subset, [("gaadi kab aayegi bhai", "erp", "order_status")], config=QUICK, home=tmp_path
    )
    assert corrected.version != first.version and not corrected.reused
    assert store.latest_version(tmp_path) == corrected.version
    assert json.loads((corrected.path / "training.json").read_text())["n_corrections"] == 1


def test_invalid_correction_is_rejected(world_examples, tmp_path) -> None:
    with pytest.raises(ValueError, match="belongs to stream"):
        train(world_examples[:50], [("rate bhejo", "erp", "price_enquiry")], home=tmp_path)
    assert (
        not (tmp_path / "models" / "classifier").exists() or store.latest_version(tmp_path) is None
    )

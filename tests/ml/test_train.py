import json

import numpy as np
import pytest

from ml import store
from ml.data import LabelledEmail, load_world_examples
from ml.encoder import EncoderConfig, get_encoder
from ml.finetune import FineTuneConfig
from ml.taxonomy import INTENTS, stream_of
from ml.train import (
    ENCODER_WEIGHTS,
    HELDOUT_TEMPLATE_FIT,
    HELDOUT_UNSEEN,
    MODEL_NAMES,
    ModelArtifact,
    TrainConfig,
    fingerprint,
    group_split,
    heldout_measures,
    split_groups,
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
    assert set(heldout) == {"measures", "n_test", "overlap", *MODEL_NAMES}
    # The generated corpus records templates and threads: the split holds out whole ones,
    # and the metrics say so, with how much text the test split still shares with training.
    assert heldout["measures"] == HELDOUT_UNSEEN
    assert 0.0 < heldout["overlap"]["test_5grams_in_train"] < 1.0
    for report in (heldout[name] for name in MODEL_NAMES):
        assert report["n"] == heldout["n_test"] > 50
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


def _keys_on_both_sides(groups, train_idx, test_idx) -> set[str]:
    train_keys = {k for i in train_idx for k in groups[i]}
    return {k for i in test_idx for k in groups[i]} & train_keys


def test_world_split_shares_no_thread_and_no_template(tiny_world) -> None:
    """On generated mail, no thread and no conversation template lies on both sides of the
    held-out split (a stratified split of single emails shares hundreds), every intent is
    held out at about the configured share, and the split is deterministic."""
    examples = load_world_examples(tiny_world)
    assert all(e.thread and e.template for e in examples)  # the generator records both
    # An auto-reply to our reply joins the thread our reply belongs to.
    thread_of = {e.key: e.thread for e in examples}
    assert all(thread_of[e.thread] == e.thread for e in examples if e.thread in thread_of)
    labels = [e.intent for e in examples]
    groups = split_groups(examples)
    train_idx, test_idx = group_split(labels, groups, 0.15, seed=7)
    assert not _keys_on_both_sides(groups, train_idx, test_idx)
    assert _keys_on_both_sides(groups, *stratified_split(labels, 0.15, seed=7))
    test_threads = {examples[i].thread for i in test_idx}
    assert not any(examples[i].thread in test_threads for i in train_idx)
    shares = {
        intent: sum(labels[i] == intent for i in test_idx) / labels.count(intent)
        for intent in set(labels)
        if labels.count(intent) >= 20
    }
    assert all(0.05 <= share <= 0.3 for share in shares.values()), shares
    again = group_split(labels, groups, 0.15, seed=7)
    assert np.array_equal(again[1], test_idx)
    assert heldout_measures(groups) == HELDOUT_UNSEEN


def test_group_split_keeps_linked_rows_together() -> None:
    """Rows chained by shared keys move as one; locked rows and their groups always train;
    rows without keys split like single emails and the split says it measures template fit."""
    labels = ["a"] * 40 + ["b"] * 40
    # a chain: rows 0-9 each share a key with the next
    groups = [(f"k{i}", f"k{i + 1}") if i < 10 else (f"solo{i}",) for i in range(80)]
    groups[50] = ("k3",)  # a "b" row tied into the chain
    locked = [False] * 79 + [True]
    groups[79] = ("shared",)
    groups[78] = ("shared",)
    for seed in range(20):
        train_idx, test_idx = group_split(labels, groups, 0.25, seed=seed, locked=locked)
        chain = set(range(10)) | {50}
        test = set(test_idx.tolist())
        assert chain <= test or not chain & test
        assert 78 not in test and 79 not in test
        assert sorted(train_idx.tolist() + test_idx.tolist()) == list(range(80))
    plain = [()] * 80
    _, test_idx = group_split(labels, plain, 0.25, seed=1)
    assert [labels[i] for i in test_idx].count("a") == 10
    assert heldout_measures(plain) == HELDOUT_TEMPLATE_FIT


def test_replies_join_their_thread_not_their_template() -> None:
    """A thread's family is its first message's template; a reply carries only its thread."""
    mails = [
        LabelledEmail("m1", "Rate", "x", "crm", "price_enquiry", thread="t1", template="A"),
        LabelledEmail("m2", "Re: Rate", "y", "crm", "price_enquiry", thread="t1", template="R"),
        LabelledEmail("m3", "COA", "z", "erp", "coa_request", thread="t3", template="B"),
        LabelledEmail("m4", "Re: COA", "w", "erp", "coa_request", thread="t3", template="R"),
    ]
    assert split_groups(mails) == [
        ("template:A", "thread:t1"),
        ("thread:t1",),
        ("template:B", "thread:t3"),
        ("thread:t3",),
    ]


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

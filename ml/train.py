"""Training the email classifier and its TF-IDF baseline, side by side.

`train` learns from labelled emails (the demo world, human corrections), keeps a
held-out split for metrics, fits a temperature on out-of-fold predictions for
calibration, and writes a versioned artifact. The held-out split is grouped: no thread and
no generator template lies on both sides (`group_split`), so it measures mail of unseen
phrasings, not how well the model fits the templates it was trained on; the metrics say
which of the two it measured (`metrics["heldout"]["measures"]`). The version is a hash of
everything that determines the model (training data, labels, encoder identity and
hyper-parameters), so the same data always yields the same version and re-training it
is a no-op.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from ml import store
from ml.classifier import EmailClassifier, Head, decide, softmax
from ml.data import EVAL_SET_MEASURES, LabelledEmail, corrections_to_examples
from ml.encoder import Encoder, EncoderConfig, get_encoder
from ml.finetune import FineTuneConfig, fine_tune
from ml.metrics import (
    classification_report,
    expected_calibration_error,
    reliability_bins,
    split_overlap,
)
from ml.pipeline import lead_at_risk
from ml.taxonomy import INTENTS, OTHER, stream_of
from ml.text import classification_text, extraction_text

log = logging.getLogger(__name__)

#: Bumped when the artifact layout or training procedure changes meaning
#: (3: held-out split grouped by thread and template).
ARTIFACT_FORMAT = 3
#: The fine-tuned encoder's weights inside an artifact folder.
ENCODER_WEIGHTS = "encoder.safetensors"


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters; all of them go into the version hash."""

    encoder: EncoderConfig = field(default_factory=EncoderConfig)
    #: Fraction of each intent held out for metrics (never trained on), in whole groups of
    #: thread and template (see `group_split`).
    test_fraction: float = 0.15
    seed: int = 7
    #: Inverse L2 strength of the logistic-regression head.
    c: float = 10.0
    #: A human correction counts as this many generated examples.
    correction_weight: float = 3.0
    #: Decision threshold used when reporting metrics (serving reads PEBBLE_REVIEW_THRESHOLD).
    review_threshold: float = 0.6
    #: Fine-tuning of the encoder with the head (off: frozen encoder + logistic regression).
    finetune: FineTuneConfig = field(default_factory=FineTuneConfig)


@dataclass(frozen=True)
class ModelArtifact:
    """A trained, stored classifier version."""

    version: str
    path: Path
    metrics: dict[str, Any]
    reused: bool = False

    def load(self) -> EmailClassifier:
        """The servable classifier of this artifact."""
        return EmailClassifier(self.path)


def fingerprint(examples: Sequence[LabelledEmail], config: TrainConfig, encoder_id: dict) -> str:
    """The version: SHA-256 (first 16 hex digits) over the data, labels and configuration."""
    digest = hashlib.sha256()
    header = {
        "format": ARTIFACT_FORMAT,
        "config": _config_dict(config),
        "encoder": encoder_id,
        "intents": list(INTENTS),
    }
    digest.update(json.dumps(header, sort_keys=True).encode())
    for ex in examples:
        record = [ex.source, ex.subject, ex.body, ex.stream, ex.intent, ex.thread, ex.template]
        digest.update(json.dumps(record, ensure_ascii=False).encode())
        digest.update(b"\n")
    return digest.hexdigest()[:16]


def _config_dict(config: TrainConfig) -> dict[str, Any]:
    return asdict(config)


def stratified_split(
    labels: Sequence[str], test_fraction: float, seed: int, locked: Sequence[bool] = ()
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices with each label's share of the test set ~ `test_fraction`.

    Labels with fewer than 4 examples stay wholly in training; `locked` rows (human
    corrections) always train.
    """
    rng = np.random.default_rng(seed)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        if not (locked and locked[i]):
            by_label.setdefault(label, []).append(i)
    test: list[int] = []
    for label in sorted(by_label):
        idx = np.array(by_label[label])
        if len(idx) < 4:
            continue
        rng.shuffle(idx)
        test.extend(idx[: max(1, round(len(idx) * test_fraction))].tolist())
    test_set = set(test)
    train = np.array([i for i in range(len(labels)) if i not in test_set], dtype=np.int64)
    return train, np.array(sorted(test_set), dtype=np.int64)


#: What the held-out metrics measure, by how the split could be made.
HELDOUT_UNSEEN = "unseen_template_families_and_threads"
HELDOUT_TEMPLATE_FIT = "template_fit_no_group_ids"


def split_groups(examples: Sequence[LabelledEmail]) -> list[tuple[str, ...]]:
    """Per example, the keys that tie it to others: its thread, and for the first message of
    a thread (in corpus order) the generator template it was written from.

    A conversation's family is the template of its opening message; replies and follow-ups
    go with their thread. Their own templates are short lines shared by every intent ("any
    update?"); joining threads by them would chain half the corpus into one group.
    """
    seen: set[str] = set()
    groups: list[tuple[str, ...]] = []
    for e in examples:
        keys: list[str] = []
        if e.template and (not e.thread or e.thread not in seen):
            keys.append(f"template:{e.template}")
        if e.thread:
            keys.append(f"thread:{e.thread}")
            seen.add(e.thread)
        groups.append(tuple(keys))
    return groups


def _components(groups: Sequence[Sequence[str]]) -> list[list[int]]:
    """Rows joined when they share any key (union-find), each component sorted, in order of
    its first row; a row without keys is a component of its own."""
    parent = list(range(len(groups)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    first: dict[str, int] = {}
    for i, keys in enumerate(groups):
        for key in keys:
            if key in first:
                a, b = root(i), root(first[key])
                if a != b:
                    parent[max(a, b)] = min(a, b)
            else:
                first[key] = i
    members: dict[int, list[int]] = {}
    for i in range(len(groups)):
        members.setdefault(root(i), []).append(i)
    return [members[r] for r in sorted(members)]


def group_split(
    labels: Sequence[str],
    groups: Sequence[Sequence[str]],
    test_fraction: float,
    seed: int,
    locked: Sequence[bool] = (),
) -> tuple[np.ndarray, np.ndarray]:
    """(train, test) indices with no group key on both sides, each label's test share ~
    `test_fraction`.

    Rows sharing a key (a thread, a template) are one component, and components go wholly to
    one side: whole components are drawn at random until each label has its share; one that
    would overshoot a label's share by more than a fifth stays in training. Labels with fewer
    than 4 examples and components holding a `locked` row (human corrections) stay in
    training. Without any keys this is a stratified split of single rows.
    """
    counts = Counter(labels)
    need = {label: round(n * test_fraction) for label, n in counts.items() if n >= 4}
    need = {label: max(1, n) for label, n in need.items()}
    components = _components(groups)
    taken: Counter[str] = Counter()
    test: list[int] = []
    for k in np.random.default_rng(seed).permutation(len(components)):
        rows = components[k]
        if locked and any(locked[i] for i in rows):
            continue
        size = Counter(labels[i] for i in rows)
        if any(label not in need for label in size):
            continue
        if not any(taken[label] < need[label] for label in size):
            continue
        if any(taken[label] + n > need[label] * 1.2 + 1 for label, n in size.items()):
            continue
        taken.update(size)
        test.extend(rows)
    test_set = set(test)
    train = np.array([i for i in range(len(labels)) if i not in test_set], dtype=np.int64)
    return train, np.array(sorted(test_set), dtype=np.int64)


def heldout_measures(groups: Sequence[Sequence[str]]) -> str:
    """What a split over these groups measures: unseen phrasings only when the examples
    carry group ids (generated mail with its template and thread recorded)."""
    return (
        HELDOUT_UNSEEN
        if any(any(k.startswith("template:") for k in g) for g in groups)
        else (HELDOUT_TEMPLATE_FIT)
    )


def fit_temperature(logits: np.ndarray, targets: np.ndarray) -> float:
    """The temperature minimising the negative log-likelihood of `targets` (class indices)."""
    from scipy.optimize import minimize_scalar

    def nll(log_t: float) -> float:
        probs = softmax(logits / np.exp(log_t))
        return float(-np.log(probs[np.arange(len(targets)), targets] + 1e-12).mean())

    result = minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(result.x))


def _fit_head(x: np.ndarray, y: np.ndarray, weights: np.ndarray, c: float):
    from sklearn.linear_model import LogisticRegression

    model = LogisticRegression(C=c, max_iter=3000, class_weight="balanced")
    model.fit(x, y, sample_weight=weights)
    return model


def _out_of_fold_logits(
    x: np.ndarray, y: np.ndarray, weights: np.ndarray, config: TrainConfig
) -> tuple[np.ndarray, np.ndarray] | None:
    """Logits for each training row from a head that did not see it (for calibration)."""
    from sklearn.model_selection import StratifiedKFold

    counts = Counter(y.tolist())
    folds = min(5, min(counts.values()))
    if folds < 2:
        return None
    n_classes = int(y.max()) + 1
    oof = np.zeros((len(y), n_classes))
    splitter = StratifiedKFold(n_splits=folds, shuffle=True, random_state=config.seed)
    for fit_idx, held_idx in splitter.split(x, y):
        model = _fit_head(x[fit_idx], y[fit_idx], weights[fit_idx], config.c)
        full = np.full((len(held_idx), n_classes), -1e4)
        full[:, model.classes_] = model.decision_function(x[held_idx])
        oof[held_idx] = full
    return oof, y


class BaselineModel:
    """TF-IDF (words 1-2 + char 2-5) and a linear model: the bar the encoder must clear."""

    def __init__(self, config: TrainConfig) -> None:
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline, make_union

        self.pipeline = make_pipeline(
            make_union(
                TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=1),
                TfidfVectorizer(
                    analyzer="char_wb", ngram_range=(2, 5), sublinear_tf=True, min_df=2
                ),
            ),
            LogisticRegression(C=config.c, max_iter=3000, class_weight="balanced"),
        )

    def fit(self, texts: list[str], intents: list[str], weights: np.ndarray) -> BaselineModel:
        self.pipeline.fit(texts, intents, logisticregression__sample_weight=weights)
        return self

    def probabilities(self, texts: list[str]) -> tuple[np.ndarray, tuple[str, ...]]:
        return self.pipeline.predict_proba(texts), tuple(self.pipeline.classes_)


def _business_entities(examples: Sequence[LabelledEmail]) -> list[list[Any]]:
    """The extractor's entities per email (no stock master), as scoring finds them."""
    from ml.extract import get_extractor

    return get_extractor().extract_many([extraction_text(e.subject, e.body) for e in examples])


def _report(
    probs: np.ndarray,
    intents: tuple[str, ...],
    truth: Sequence[LabelledEmail],
    threshold: float,
    entities: Sequence[Sequence[Any]] | None = None,
) -> dict[str, Any]:
    """Metrics of the decisions made from `probs`; with the emails' `entities`, the review
    flag is the one scoring sets (`ml.pipeline.lead_at_risk` included)."""
    decisions = decide(probs, intents, threshold)
    if entities is not None:
        decisions = [
            replace(d, requires_review=True) if lead_at_risk(d.stream, found) else d
            for d, found in zip(decisions, entities, strict=True)
        ]
    report = classification_report(
        [e.stream for e in truth],
        [e.intent for e in truth],
        [d.stream for d in decisions],
        [d.intent for d in decisions],
        [d.confidence for d in decisions],
    )
    correct = [d.intent == e.intent for d, e in zip(decisions, truth, strict=True)]
    flagged = [d.requires_review for d in decisions]
    report["review_rate"] = round(float(np.mean(flagged)) if flagged else 0.0, 4)
    # A lost lead: business mail (crm, erp, tender) filed under `other` with no review.
    report["lost_leads"] = sum(
        1
        for d, e in zip(decisions, truth, strict=True)
        if e.stream != OTHER and d.stream == OTHER and not d.requires_review
    )
    kept = [c for c, f in zip(correct, flagged, strict=True) if not f]
    report["accuracy_not_flagged"] = round(float(np.mean(kept)) if kept else 0.0, 4)
    report["reliability"] = reliability_bins([d.confidence for d in decisions], correct)
    return report


def evaluate(
    artifact_path: Path, examples: Sequence[LabelledEmail], baseline: BaselineModel | None = None
) -> dict[str, Any]:
    """Metrics of a stored classifier (and optionally a baseline) on labelled emails."""
    clf = EmailClassifier(artifact_path)
    texts = [classification_text(e.subject, e.body) for e in examples]
    threshold = json.loads((artifact_path / "training.json").read_text())["config"][
        "review_threshold"
    ]
    embeddings = clf.encoder.encode(texts)
    entities = _business_entities(examples)
    out = {
        "transformer": _report(
            clf.head.probabilities(embeddings), clf.intents, examples, threshold, entities
        )
    }
    if baseline is not None:
        probs, classes = baseline.probabilities(texts)
        out["baseline"] = _report(probs, classes, examples, threshold, entities)
    return out


@dataclass
class _Fitted:
    """A fitted head (calibrated and not), the test split's embeddings and how they came."""

    head: Head
    raw_head: Head
    x_test: np.ndarray
    calibration_method: str
    details: dict[str, Any]
    state_dict: dict | None = None

    def save_weights(self, path: Path) -> None:
        from safetensors.torch import save_file

        if self.state_dict is None:
            raise ValueError("no fine-tuned weights to save")
        save_file(self.state_dict, str(path))


def _linear_head(model, classes: tuple[str, ...], dim: int) -> tuple[np.ndarray, np.ndarray]:
    """(coef, intercept) over all `classes` from a fitted sklearn logistic regression."""
    coef = np.zeros((len(classes), dim))
    intercept = np.full(len(classes), -1e4)
    coef[model.classes_], intercept[model.classes_] = model.coef_, model.intercept_
    if len(model.classes_) == 2:  # sklearn's binary case: one row for the positive class
        coef[model.classes_] = np.vstack([-model.coef_[0] / 2, model.coef_[0] / 2])
        intercept[model.classes_] = [-model.intercept_[0] / 2, model.intercept_[0] / 2]
    return coef, intercept


def _fit_frozen(
    encoder: Encoder,
    texts: list[str],
    y: np.ndarray,
    weights: np.ndarray,
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    classes: tuple[str, ...],
    config: TrainConfig,
) -> _Fitted:
    """Pre-trained encoder, logistic-regression head, temperature from out-of-fold logits."""
    t0 = time.perf_counter()
    x = encoder.encode(texts)
    encode_seconds = time.perf_counter() - t0
    x_train, y_train, w_train = x[train_idx], y[train_idx], weights[train_idx]
    coef, intercept = _linear_head(
        _fit_head(x_train, y_train, w_train, config.c), classes, x.shape[1]
    )
    oof = _out_of_fold_logits(x_train, y_train, w_train, config)
    temperature = fit_temperature(*oof) if oof is not None else 1.0
    return _Fitted(
        head=Head(classes, coef, intercept, temperature),
        raw_head=Head(classes, coef, intercept, 1.0),
        x_test=x[test_idx],
        calibration_method="temperature scaling on 5-fold out-of-fold logits of the training split",
        details={"encode_seconds": round(encode_seconds, 2)},
    )


def _fit_fine_tuned(
    texts: list[str],
    y: np.ndarray,
    weights: np.ndarray,
    locked: Sequence[bool],
    train_idx: np.ndarray,
    test_idx: np.ndarray,
    classes: tuple[str, ...],
    config: TrainConfig,
) -> _Fitted:
    """Fine-tuned encoder and head; temperature fitted on a calibration split the fine-tuning
    never saw, encoded exactly as served (token budget, int8)."""
    ft = config.finetune
    sub_labels = [str(v) for v in y[train_idx]]
    fit_pos, cal_pos = stratified_split(
        sub_labels, ft.calibration_fraction, config.seed + 1, [locked[i] for i in train_idx]
    )
    fit_idx, cal_idx = train_idx[fit_pos], train_idx[cal_pos]
    tuned = fine_tune(
        [texts[i] for i in fit_idx],
        y[fit_idx],
        len(classes),
        weights[fit_idx],
        ft,
        config.encoder.max_length,
        config.seed,
    )
    serving = Encoder(config.encoder, weights=tuned.state_dict)
    t0 = time.perf_counter()
    x = serving.encode([texts[i] for i in np.concatenate([cal_idx, test_idx])])
    encode_seconds = time.perf_counter() - t0
    x_cal, x_test = x[: len(cal_idx)], x[len(cal_idx) :]
    raw_head = Head(classes, tuned.coef, tuned.intercept, 1.0)
    temperature = fit_temperature(raw_head.logits(x_cal), y[cal_idx]) if len(cal_idx) else 1.0
    return _Fitted(
        head=Head(classes, tuned.coef, tuned.intercept, temperature),
        raw_head=raw_head,
        x_test=x_test,
        calibration_method=(
            "temperature scaling on a stratified calibration split of the training data, "
            "held out from fine-tuning"
        ),
        details={
            "n_fine_tune": int(len(fit_idx)),
            "n_calibration": int(len(cal_idx)),
            "fine_tune_seconds": round(tuned.seconds, 2),
            "fine_tune_steps": tuned.steps,
            "fine_tune_losses": tuned.losses,
            "encode_seconds": round(encode_seconds, 2),
        },
        state_dict=tuned.state_dict,
    )


def train(
    examples: Iterable[LabelledEmail],
    corrections: Iterable[tuple[str, str, str]] = (),
    *,
    config: TrainConfig | None = None,
    home: Path | None = None,
    eval_examples: Sequence[LabelledEmail] | Mapping[str, Sequence[LabelledEmail]] | None = None,
    force: bool = False,
    make_latest: bool = True,
) -> ModelArtifact:
    """Train (or reuse) the classifier for these examples and return its stored artifact.

    `corrections` are human-labelled `(text, stream, intent)` triples; they always train and
    weigh more than generated mail. `eval_examples` (hand-written sets: one, reported under
    `metrics["handwritten"]`, or a mapping of metrics key -> set, see
    `ml.data.load_eval_sets`) are only measured, after training; they never influence the
    model. Unless `force`, an artifact already stored under the same version is returned as
    is.
    """
    config = config or TrainConfig()
    eval_sets = _eval_sets(eval_examples)
    data = list(examples) + corrections_to_examples(corrections)
    if not data:
        raise ValueError("no training examples")
    encoder = get_encoder(config.encoder)
    version = fingerprint(data, config, encoder.identity())
    existing = store.version_dir(version, home)
    if not force and (existing / "head.npz").is_file():
        metrics = json.loads((existing / "metrics.json").read_text(encoding="utf-8"))
        # A stored model measured without the evaluation set asked for now is retrained
        # (identically) so that the baseline can be measured beside it.
        if all(name in metrics for name in eval_sets):
            if make_latest:
                store.set_latest(version, home)
            return ModelArtifact(version, existing, metrics, reused=True)

    started = time.perf_counter()
    texts = [classification_text(e.subject, e.body) for e in data]
    labels = [e.intent for e in data]
    locked = [e.source == "correction" for e in data]
    groups = split_groups(data)
    train_idx, test_idx = group_split(labels, groups, config.test_fraction, config.seed, locked)
    weights = np.array([config.correction_weight if lk else 1.0 for lk in locked])

    classes = tuple(i for i in INTENTS if i in set(labels))
    class_index = {c: n for n, c in enumerate(classes)}
    y = np.array([class_index[label] for label in labels])
    test = [data[i] for i in test_idx]

    staging = store.new_staging_dir(home)
    try:
        if config.finetune.enabled:
            fitted = _fit_fine_tuned(
                texts, y, weights, locked, train_idx, test_idx, classes, config
            )
            fitted.save_weights(staging / ENCODER_WEIGHTS)
        else:
            fitted = _fit_frozen(encoder, texts, y, weights, train_idx, test_idx, classes, config)
        head, raw_head = fitted.head, fitted.raw_head

        baseline = BaselineModel(config).fit(
            [texts[i] for i in train_idx], [labels[i] for i in train_idx], weights[train_idx]
        )
        metrics: dict[str, Any] = {
            "version": version,
            "heldout": {
                "measures": heldout_measures(groups),
                "n_test": int(len(test_idx)),
                "overlap": split_overlap(
                    [texts[i] for i in train_idx],
                    [texts[i] for i in test_idx],
                    [data[i].subject for i in train_idx],
                    [data[i].subject for i in test_idx],
                ),
            },
        }
        if len(test):
            x_test = fitted.x_test
            test_entities = _business_entities(test)
            metrics["heldout"]["transformer"] = _report(
                head.probabilities(x_test), classes, test, config.review_threshold, test_entities
            )
            uncalibrated = decide(raw_head.probabilities(x_test), classes, 1.0)
            metrics["heldout"]["transformer"]["ece_uncalibrated"] = round(
                expected_calibration_error(
                    [d.confidence for d in uncalibrated],
                    [d.intent == e.intent for d, e in zip(uncalibrated, test, strict=True)],
                ),
                4,
            )
            probs, bclasses = baseline.probabilities([texts[i] for i in test_idx])
            metrics["heldout"]["baseline"] = _report(
                probs, bclasses, test, config.review_threshold, test_entities
            )
        train_seconds = time.perf_counter() - started

        head.save(staging / "head.npz")
        _write_json(
            staging / "labels.json",
            {
                "intents": list(classes),
                "intent_stream": {i: stream_of(i) for i in classes},
            },
        )
        identity = encoder.identity()
        if config.finetune.enabled:
            identity = {**identity, "fine_tuned": True, "weights_file": ENCODER_WEIGHTS}
        _write_json(staging / "encoder.json", identity)
        _write_json(
            staging / "calibration.json",
            {"method": fitted.calibration_method, "temperature": round(head.temperature, 6)},
        )
        _write_json(
            staging / "training.json",
            {
                "format": ARTIFACT_FORMAT,
                "config": _config_dict(config),
                "n_examples": len(data),
                "n_train": int(len(train_idx)),
                "n_test": int(len(test_idx)),
                "n_corrections": int(sum(locked)),
                "intent_counts": dict(sorted(Counter(labels).items())),
                **fitted.details,
                "train_seconds": round(train_seconds, 2),
            },
        )
        _write_json(staging / "metrics.json", metrics)
        path = store.publish(staging, version, home)
    except BaseException:
        import shutil

        shutil.rmtree(staging, ignore_errors=True)
        raise

    if eval_sets:
        for name, examples_of_set in eval_sets.items():
            metrics[name] = {
                "measures": EVAL_SET_MEASURES.get(name, "hand-written mail"),
                **evaluate(path, examples_of_set, baseline),
            }
        _write_json(path / "metrics.json", metrics)
    if make_latest:
        store.set_latest(version, home)
    log.info("trained classifier %s in %.1fs", version, train_seconds)
    return ModelArtifact(version, path, metrics)


def _eval_sets(
    eval_examples: Sequence[LabelledEmail] | Mapping[str, Sequence[LabelledEmail]] | None,
) -> dict[str, Sequence[LabelledEmail]]:
    """Named, non-empty evaluation sets; a bare sequence is the one `handwritten` set."""
    if not eval_examples:
        return {}
    named = (
        dict(eval_examples)
        if isinstance(eval_examples, Mapping)
        else {"handwritten": eval_examples}
    )
    return {name: examples for name, examples in named.items() if examples}


#: The reports of a metrics block (a block also holds labels such as `measures`).
MODEL_NAMES = ("transformer", "baseline")


def _write_json(path: Path, payload: Any) -> None:
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.replace(path)

"""The default model: trained on the labelled corpus in the training folder.

The training corpus is a folder in the world format (`mail/truth.jsonl` + the Maildir it
points to) at `PEBBLE_TRAINING_DIR` (default `$PEBBLE_HOME/training`). It must not be the
mail the model then scores: a model measured on its own training mail shows confidences
near 100% that mean nothing. A demo home generates it from another seed than the demo
mailbox (`pebble demo generate --seed 8 --out $PEBBLE_HOME/training`); a real deployment
points the setting at its own labelled mail.

`ensure_classifier` trains the default model the first time one is needed, which takes a
few minutes on a laptop CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from pebble.settings import PROJECT_ROOT, get_settings

if TYPE_CHECKING:
    from ml.data import LabelledEmail

#: The hand-written evaluation sets, only measured, never trained on, by the metrics key each
#: is reported under: the fresh v2 set as `handwritten`, the frozen v1 set (leaked into the
#: product, kept for regression only) as `handwritten_v1`. Absent outside a checkout.
EVAL_DIR = PROJECT_ROOT / "tests" / "data" / "eval"
HANDWRITTEN_SETS = {
    "handwritten": EVAL_DIR / "handwritten_v2.jsonl",
    "handwritten_v1": EVAL_DIR / "handwritten_v1.jsonl",
}
HANDWRITTEN_EVAL = HANDWRITTEN_SETS["handwritten"]
#: The file that makes a folder a labelled corpus.
TRUTH_FILE = Path("mail") / "truth.jsonl"


class TrainingCorpusMissing(FileNotFoundError):
    """There is no labelled corpus to train on; the message says how to make one."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        super().__init__(
            f"No labelled training mail at {folder} ({TRUTH_FILE} is missing). "
            f"Make a corpus with `pebble demo generate --seed 8 --out {folder}`, or set "
            "PEBBLE_TRAINING_DIR to a folder of labelled mail in the same format "
            "(mail/truth.jsonl + Maildir). Never train on the mailbox the model will score."
        )


def training_corpus(folder: Path | None = None) -> Path:
    """The labelled training corpus (default: the `training_dir` setting).

    Raises :class:`TrainingCorpusMissing` when the folder holds no `mail/truth.jsonl`.
    """
    folder = (folder or get_settings().training).expanduser().resolve()
    if not (folder / TRUTH_FILE).is_file():
        raise TrainingCorpusMissing(folder)
    return folder


def train_default(
    corpus: Path | None = None,
    corrections: list[tuple[str, str, str]] | None = None,
    eval_path: Path | None = HANDWRITTEN_EVAL,
    force: bool = False,
    config=None,
    say: Callable[[str], None] = lambda _msg: None,
    labelled: Sequence[LabelledEmail] = (),
):
    """Train on the training corpus (+ corrections); measure on the hand-written sets present
    (both when `eval_path` is the default, else the one given).

    `corrections` are `(text, stream, intent)` triples (``pebble train --corrections``);
    `labelled` are corrections with their subject and thread already (``ml.corrections``,
    from the warehouse's events). Both always train and weigh more than generated mail."""
    from ml.data import load_eval_sets, load_world_examples
    from ml.train import train

    corpus = training_corpus(corpus)
    examples = load_world_examples(corpus) + list(labelled)
    if eval_path is None:
        eval_examples = None
    elif eval_path == HANDWRITTEN_EVAL:
        eval_examples = load_eval_sets(HANDWRITTEN_SETS)
    else:
        eval_examples = load_eval_sets({"handwritten": eval_path})
    extra = f" and {len(labelled)} people's corrections" if labelled else ""
    say(
        f"Training the classifier on {len(examples) - len(labelled)} emails from {corpus}{extra} ..."
    )
    started = time.perf_counter()
    artifact = train(
        examples, corrections or (), config=config, eval_examples=eval_examples, force=force
    )
    verb = "reused" if artifact.reused else "trained"
    say(f"  {verb} model {artifact.version} in {time.perf_counter() - started:.0f}s")
    return artifact


def ensure_classifier(say: Callable[[str], None] = lambda _msg: None):
    """The classifier in service, training the default one first if none exists.

    Raises :class:`TrainingCorpusMissing` when there is neither a model nor a corpus.
    """
    from ml.classifier import load_classifier
    from ml.store import ModelNotFoundError, classifier_root

    try:
        return load_classifier()
    except ModelNotFoundError:
        say(
            f"No trained classifier under {classifier_root()}: training the default model "
            f"from {get_settings().training} (takes 2-5 minutes on CPU, once)."
        )
    train_default(say=say)
    return load_classifier()

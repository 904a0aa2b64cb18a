"""The default model: trained from the demo world when nothing else has been trained.

A fresh install has no classifier. `ensure_classifier` makes one the first time it is
needed: it generates the demo world (seed 7, scale 1, about 3,000 labelled emails) unless
one exists, and trains on it, which takes a few minutes on a laptop CPU.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

from pebble.settings import PROJECT_ROOT, get_settings

DEFAULT_SEED = 7
DEFAULT_SCALE = 1.0
#: The hand-written evaluation set; only measured, never trained on. Absent outside a checkout.
HANDWRITTEN_EVAL = PROJECT_ROOT / "tests" / "data" / "eval" / "handwritten_emails.jsonl"


def ensure_world(
    world: Path | None = None,
    seed: int = DEFAULT_SEED,
    scale: float = DEFAULT_SCALE,
    say: Callable[[str], None] = lambda _msg: None,
) -> Path:
    """The demo world folder, generated first if it holds no labelled mail."""
    world = (world or get_settings().world).resolve()
    if (world / "mail" / "truth.jsonl").is_file():
        return world
    from demo.world import generate_world

    say(f"Generating the demo world (seed {seed}, scale {scale}) into {world} ...")
    started = time.perf_counter()
    generate_world(world, seed=seed, scale=scale)
    say(f"  done in {time.perf_counter() - started:.0f}s")
    return world


def train_default(
    world: Path | None = None,
    corrections: list[tuple[str, str, str]] | None = None,
    eval_path: Path | None = HANDWRITTEN_EVAL,
    force: bool = False,
    config=None,
    say: Callable[[str], None] = lambda _msg: None,
):
    """Train on the demo world (+ corrections); measure on the hand-written set if present."""
    from ml.data import load_jsonl_examples, load_world_examples
    from ml.train import train

    world = ensure_world(world, say=say)
    examples = load_world_examples(world)
    eval_examples = (
        load_jsonl_examples(eval_path) if eval_path is not None and eval_path.is_file() else None
    )
    say(f"Training the classifier on {len(examples)} emails from {world} ...")
    started = time.perf_counter()
    artifact = train(
        examples, corrections or (), config=config, eval_examples=eval_examples, force=force
    )
    verb = "reused" if artifact.reused else "trained"
    say(f"  {verb} model {artifact.version} in {time.perf_counter() - started:.0f}s")
    return artifact


def ensure_classifier(say: Callable[[str], None] = lambda _msg: None):
    """The classifier in service, training the default one first if none exists."""
    from ml.classifier import load_classifier
    from ml.store import ModelNotFoundError, classifier_root

    try:
        return load_classifier()
    except ModelNotFoundError:
        say(
            f"No trained classifier under {classifier_root()}: training the default model "
            "from the demo world (takes 2-5 minutes on CPU, once)."
        )
    train_default(say=say)
    return load_classifier()

"""Fixtures for the ML tests: one small generated world and one model trained on it per session."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ml.bootstrap import HANDWRITTEN_SETS
from ml.data import LabelledEmail, load_eval_sets, load_world_examples
from ml.train import ModelArtifact, train

#: The default model's training corpus (seed 8, scale 1: ~2,700 emails, generated in seconds
#: and fine-tuned in 2-3 minutes), so the hand-written metrics measured here are the shipped
#: model's. The demo mailbox is seed 7: mail the model has never seen.
WORLD_SEED = 8
WORLD_SCALE = 1.0
DEMO_SEED = 7


@pytest.fixture(scope="session")
def small_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from demo.world import generate_world

    out = tmp_path_factory.mktemp("world")
    generate_world(out, seed=WORLD_SEED, scale=WORLD_SCALE)
    return out


@pytest.fixture(scope="session")
def heldout_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Generated mail the session's model never trained on: part of the demo mailbox."""
    from demo.world import generate_world

    out = tmp_path_factory.mktemp("heldout_world")
    generate_world(out, seed=DEMO_SEED, scale=0.3)
    return out


@pytest.fixture(scope="session")
def tiny_world(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A scale-0.1 world (a few hundred emails) for tests that train from scratch."""
    from demo.world import generate_world

    out = tmp_path_factory.mktemp("tiny_world")
    generate_world(out, seed=WORLD_SEED + 1, scale=0.1)
    return out


@pytest.fixture(scope="session")
def world_examples(small_world: Path) -> list[LabelledEmail]:
    return load_world_examples(small_world)


@pytest.fixture(scope="session")
def model_home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh model store; `PEBBLE_TEST_MODEL_CACHE` names a lasting one instead, so that
    test runs on one machine (both database modes, say) fine-tune the session's model once:
    `train` reuses a stored artifact only when its version, the hash of the data, labels,
    encoder identity (precision included) and configuration, is the same."""
    cache = os.environ.get("PEBBLE_TEST_MODEL_CACHE")
    if cache:
        Path(cache).mkdir(parents=True, exist_ok=True)
        return Path(cache)
    return tmp_path_factory.mktemp("ml_home")


@pytest.fixture(scope="session")
def artifact(world_examples: list[LabelledEmail], model_home: Path) -> ModelArtifact:
    """The session's model; measured (only) on the hand-written sets that are present."""
    return train(world_examples, home=model_home, eval_examples=load_eval_sets(HANDWRITTEN_SETS))


@pytest.fixture
def home_with_model(artifact: ModelArtifact, tmp_path: Path) -> Path:
    """A fresh PEBBLE_HOME holding (a copy of) the session's model as `latest`."""
    home = tmp_path / "home"
    root = home / "models" / "classifier"
    root.mkdir(parents=True)
    shutil.copytree(artifact.path, root / artifact.version)
    (root / "latest").write_text(artifact.version + "\n", encoding="utf-8")
    return home

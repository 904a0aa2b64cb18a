"""Where trained classifiers live: `$PEBBLE_HOME/models/classifier/<version>/`.

A version is a content hash, so a directory never changes once written. The file
`latest` beside the versions names the one in service.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

from pebble.settings import get_settings

_VERSION = re.compile(r"^[0-9a-f]{16,64}$")


class ModelNotFoundError(LookupError):
    """No trained classifier is available where one was asked for."""


def classifier_root(home: Path | None = None) -> Path:
    """The folder holding every classifier version."""
    return (home or get_settings().home) / "models" / "classifier"


def version_dir(version: str, home: Path | None = None) -> Path:
    """The folder of one version (which may not exist)."""
    if not _VERSION.match(version):
        raise ValueError(f"not a model version: {version!r}")
    return classifier_root(home) / version


def latest_version(home: Path | None = None) -> str | None:
    """The version in service, or None if nothing has been trained yet."""
    pointer = classifier_root(home) / "latest"
    try:
        version = pointer.read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    if not _VERSION.match(version) or not (classifier_root(home) / version).is_dir():
        return None
    return version


def resolve(version: str | None = None, home: Path | None = None) -> Path:
    """The folder of `version` (default: latest); raises ModelNotFoundError if absent."""
    version = version or latest_version(home)
    if version is None:
        raise ModelNotFoundError(f"no trained classifier under {classifier_root(home)}")
    path = version_dir(version, home)
    if not (path / "head.npz").is_file():
        raise ModelNotFoundError(f"classifier version {version} not found at {path}")
    return path


def set_latest(version: str, home: Path | None = None) -> None:
    """Point `latest` at `version` (atomic: readers see the old or the new one)."""
    root = classifier_root(home)
    fd, tmp = tempfile.mkstemp(dir=root, prefix=".latest-")
    with os.fdopen(fd, "w", encoding="utf-8") as fh:
        fh.write(version + "\n")
    os.chmod(tmp, 0o644)
    os.replace(tmp, root / "latest")


def new_staging_dir(home: Path | None = None) -> Path:
    """A private folder to write a version into before :func:`publish` moves it in place."""
    root = classifier_root(home)
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=root, prefix=".staging-"))
    staging.chmod(0o755)
    return staging


def publish(staging: Path, version: str, home: Path | None = None) -> Path:
    """Move a fully written staging folder to its version folder and return that folder.

    If the version already exists (same content), the staging copy is discarded.
    """
    target = version_dir(version, home)
    try:
        os.rename(staging, target)
    except OSError:
        if not (target / "head.npz").is_file():
            raise
        shutil.rmtree(staging, ignore_errors=True)
    return target

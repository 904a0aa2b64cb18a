"""The demo world: a deterministic, generated copy of a mid-size chemical trader's data.

`generate_world` writes the world to disk (format: docs/world-format.md); `load_jsonl`
reads its JSON Lines files back one record at a time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any


def generate_world(out: Path, seed: int = 7, scale: float = 1.0) -> dict[str, Any]:
    """Write the demo world for (seed, scale) into `out` and return its manifest.

    The same (seed, scale) always produces byte-identical files.
    """
    from demo.world.generate import generate_world as _generate

    return _generate(Path(out), seed=seed, scale=scale)


def load_jsonl(path: Path | str) -> Iterator[dict[str, Any]]:
    """Yield one dict per non-blank line of a JSON Lines file, in file order."""
    import json

    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


__all__ = ["generate_world", "load_jsonl"]

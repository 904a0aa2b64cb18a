"""Throughput of entity extraction: emails per second through `Extractor.extract_many`.

Uses the messages of a generated demo world (subject + body text as the mail parser
stores it). Without `--world`, a small world is generated into a temporary directory.

    .venv/bin/python bench/bench_extract.py [--world DIR] [--repeat 3] [--batch-size 64]

Target: >= 500 emails/s on one core (the whole classify + extract + embed budget is 150/s).
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from pathlib import Path

TARGET_PER_SECOND = 500.0


def world_products(world: Path):
    from ml.extract.evaluate import world_products as products

    return products(world)


def load_texts(world: Path) -> list[str]:
    from ml.extract.evaluate import world_examples

    return [text for text, _ in world_examples(world)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="a generated demo world directory")
    parser.add_argument("--scale", type=float, default=0.5, help="scale of a generated world")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=64)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as tmp:
        world = args.world
        if world is None:
            from demo.world import generate_world

            world = Path(tmp) / "world"
            generate_world(world, seed=7, scale=args.scale)
        texts = load_texts(world)
        products = world_products(world)  # the stock master the world's Tally holds

    from ml.extract.pipeline import Extractor

    started = time.perf_counter()
    extractor = Extractor(products)
    build_seconds = time.perf_counter() - started
    extractor.extract_many(texts[:50])  # warm caches

    rates: list[float] = []
    entities = 0
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        results = extractor.extract_many(texts, batch_size=args.batch_size)
        rates.append(len(texts) / (time.perf_counter() - t0))
        entities = sum(len(r) for r in results)

    chars = sum(len(t) for t in texts) / max(len(texts), 1)
    best, median = max(rates), statistics.median(rates)
    print(f"emails: {len(texts)} (mean {chars:.0f} chars), entities found: {entities}")
    print(f"extractor build: {build_seconds:.2f} s")
    print(f"extract_many: median {median:.0f} emails/s, best {best:.0f} emails/s")
    print(
        f"target {TARGET_PER_SECOND:.0f} emails/s: {'met' if median >= TARGET_PER_SECOND else 'MISSED'}"
    )


if __name__ == "__main__":
    main()

"""ML throughput and accuracy-cost benchmark.

Measures, on this machine's CPU:
  * training time of the default model on the demo world (scale 1 unless --world says otherwise);
  * end-to-end scoring throughput (classify + extract + embed) in emails/s;
  * the default model's fine-tuned encoder alone under each speed-up (threads, token budget,
    length bucketing, int8), each with its accuracy cost on the held-out split of generated
    mail (same weights and head, only the serving setting changes).

Usage: .venv/bin/python bench/bench_ml.py [--world DIR] [--n 1000] [--json out.json] [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


def _timed(fn, repeat: int = 3) -> float:
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def _generate_world(out: Path) -> Path:
    """The demo world (seed 7, scale 1) the figures have always been measured on."""
    from demo.world import generate_world

    print(f"Generating the demo world (seed 7, scale 1) into {out} ...")
    generate_world(out, seed=7, scale=1.0)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--world", type=Path, help="demo world (default: generate seed 7 scale 1)")
    parser.add_argument("--n", type=int, default=1000, help="emails per throughput run")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--quick", action="store_true", help="fewer encoder settings")
    parser.add_argument(
        "--speed-only",
        action="store_true",
        help="skip the per-setting accuracy (no extra training)",
    )
    args = parser.parse_args()

    import torch

    from ml.bootstrap import HANDWRITTEN_SETS
    from ml.classifier import EmailClassifier, decide
    from ml.data import load_eval_sets, load_world_examples
    from ml.encoder import Encoder, EncoderConfig
    from ml.extract import get_extractor
    from ml.extract.evaluate import world_products
    from ml.metrics import classification_report
    from ml.pipeline import score_emails
    from ml.text import classification_text, extraction_text
    from ml.train import ENCODER_WEIGHTS, TrainConfig, group_split, split_groups, train

    figures: dict = {"cpu_threads": torch.get_num_threads()}
    scratch = Path(tempfile.mkdtemp(prefix="bench_ml_"))
    world = args.world or _generate_world(scratch / "world")
    examples = load_world_examples(world)
    evaluation = load_eval_sets(HANDWRITTEN_SETS)
    print(
        f"world {world}: {len(examples)} labelled emails; hand-written sets: "
        + (", ".join(f"{k} {len(v)}" for k, v in evaluation.items()) or "absent")
    )

    # 1. Training time of the default model, from a cold model store.
    start = time.perf_counter()
    artifact = train(examples, home=scratch / "home", eval_examples=evaluation, force=True)
    figures["train_seconds"] = round(time.perf_counter() - start, 1)
    figures["default_model"] = {k: artifact.metrics.get(k) for k in ("heldout", *HANDWRITTEN_SETS)}
    print(
        f"training ({len(examples)} emails, incl. baseline and calibration): "
        f"{figures['train_seconds']}s"
    )

    # 2. End-to-end scoring on typical mail (the world's own emails, cycled to --n).
    rows = [
        {"email_key": f"b{i}", "subject": ex.subject, "body": ex.body}
        for i, ex in enumerate((examples * (args.n // max(len(examples), 1) + 1))[: args.n])
    ]
    clf = EmailClassifier(artifact.path)
    extractor = get_extractor(world_products(world))  # the world's stock master
    score_emails(rows[:64], classifier=clf, extractor=extractor)  # warm-up
    seconds = _timed(lambda: score_emails(rows, classifier=clf, extractor=extractor), repeat=2)
    figures["score_emails_per_s"] = round(len(rows) / seconds, 1)
    ext_texts = [extraction_text(r["subject"], r["body"]) for r in rows]
    cls_texts = [classification_text(r["subject"], r["body"]) for r in rows]
    figures["extract_only_per_s"] = round(
        len(rows) / _timed(lambda: extractor.extract_many(ext_texts), repeat=2), 1
    )
    tokens = clf.encoder._tokenizer(cls_texts, truncation=False)["input_ids"]
    lengths = sorted(len(t) for t in tokens)
    figures["tokens_per_email"] = {
        "median": lengths[len(lengths) // 2],
        "p90": lengths[int(len(lengths) * 0.9)],
    }
    print(
        f"score_emails (classify + extract + embed): {figures['score_emails_per_s']} emails/s; "
        f"extraction alone {figures['extract_only_per_s']}/s; tokens/email "
        f"{figures['tokens_per_email']}"
    )

    # 3. Encoder speed-ups and their accuracy cost. The fine-tuned encoder of the default
    # model is served under each setting with the same head; accuracy is measured on the
    # default model's held-out split (generated mail the model never trained on).
    settings = [
        # (label, threads, max_length, int8, bucketing)
        ("fp32, 1 thread, 128 tok, no bucketing", 1, 128, False, False),
        ("fp32, 2 threads, 128 tok, no bucketing", 2, 128, False, False),
        ("fp32, 2 threads, 128 tok, bucketing", 2, 128, False, True),
        ("fp32, 2 threads, 64 tok, bucketing", 2, 64, False, True),
        ("int8, 2 threads, 128 tok, bucketing", 2, 128, True, True),
        ("int8, 2 threads, 64 tok, bucketing (default)", 2, 64, True, True),
    ]
    if args.quick:
        settings = [s for s in settings if s[1] == 2 and s[2] == 64]
    config = TrainConfig()
    all_texts = [classification_text(e.subject, e.body) for e in examples]
    # The default model's own held-out rows (grouped by thread and template), never trained on.
    _, test_idx = group_split(
        [e.intent for e in examples], split_groups(examples), config.test_fraction, config.seed
    )
    held = [examples[i] for i in test_idx]
    held_texts = [all_texts[i] for i in test_idx]
    weights = artifact.path / ENCODER_WEIGHTS
    sample = cls_texts[: min(len(cls_texts), 512)]
    figures["encoder"] = []
    for label, threads, max_length, int8, bucket in settings:
        torch.set_num_threads(threads)
        enc = Encoder(
            EncoderConfig(max_length=max_length, int8=int8),
            weights=weights if weights.is_file() else None,
        )
        enc.encode(sample[:32])
        per_s = len(sample) / _timed(
            lambda e=enc, b=bucket: e.encode(sample, bucket_by_length=b), 2
        )
        row = {"setting": label, "encode_per_s": round(per_s, 1)}
        if threads == 2 and bucket and not args.speed_only:
            # Accuracy depends on the encoding, not on threads or bucketing.
            probs = clf.head.probabilities(enc.encode(held_texts))
            decisions = decide(probs, clf.intents, config.review_threshold)
            report = classification_report(
                [e.stream for e in held],
                [e.intent for e in held],
                [d.stream for d in decisions],
                [d.intent for d in decisions],
                [d.confidence for d in decisions],
            )
            row["heldout_intent_f1"] = report["intent_macro_f1"]
            row["heldout_stream_f1"] = report["stream_macro_f1"]
            row["heldout_ece"] = report["ece"]
        figures["encoder"].append(row)
        print(json.dumps(row))
    torch.set_num_threads(os.cpu_count() or 1)

    if args.json:
        args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
    print(json.dumps({k: v for k, v in figures.items() if k != "default_model"}, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

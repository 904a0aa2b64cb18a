"""ML throughput and accuracy-cost benchmark.

Measures, on this machine's CPU:
  * training time of the default model on the demo world (scale 1 unless --world says otherwise);
  * end-to-end scoring throughput (classify + extract + embed) in emails/s;
  * the default model's fine-tuned encoder alone under each speed-up (threads, token budget,
    length bucketing, int8, bfloat16), each with its accuracy cost on the held-out split of
    generated mail (same weights and head, only the serving setting changes);
  * the shipped scoring path against the naive one, each in a child process of its own,
    interleaved (ours, naive, workers, then the other way round, ...) so that a shared
    machine's load falls on all: ours is `score_emails` as the `email_predictions` asset runs
    it in one process (classify + extract with the world's stock master + the search
    embedding from the same encoder pass; batches of 256, the served precision, torch's
    threads); workers is the same call scored by `--workers` worker processes of one torch
    thread each (`ml.parallel`, what the asset does with PEBBLE_SCORE_WORKERS unset once
    2,000 or more emails are pending), its time including the workers' start (model
    loading), which is also reported on its own; naive is the same code one email at a time
    with the float32 encoder (no batching, no bfloat16/int8), on the first `--naive-n`
    emails. Ours and workers score the same `--stage-n` emails. Database writes and the
    Qdrant upsert are not part of any. Peak memory is the child's process tree (workers
    included), sampled every 0.1 s. `--json` writes them as {"stages": [{"stage":
    "score_emails", "n", "ours_per_s", "workers_per_s", "naive_per_s", "ratio",
    "ours_peak_mb", "workers_peak_mb", "naive_peak_mb", ...}]} beside the other figures.

Usage: .venv/bin/python bench/bench_ml.py [--world DIR] [--n 1000] [--json out.json] [--quick]
       [--model ARTIFACT_DIR] [--rounds 2] [--naive-n 300] [--stage-n 4000] [--workers 2]
       [--stage-only]
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


def _child(args: argparse.Namespace) -> int:
    """One timed scoring run (`--child ours|workers|naive`) in a process of its own: its
    peak memory is its own (and its workers'). Writes {"n", "seconds", ...} to `--out`."""
    from ml.classifier import EmailClassifier
    from ml.encoder import Encoder, EncoderConfig
    from ml.extract import get_extractor
    from ml.extract.evaluate import world_products
    from ml.pipeline import score_emails
    from ml.train import ENCODER_WEIGHTS

    rows = json.loads(args.rows.read_text(encoding="utf-8"))
    clf = EmailClassifier(args.model)
    if args.child == "naive":
        weights = args.model / ENCODER_WEIGHTS
        clf.encoder = Encoder(
            EncoderConfig(max_length=clf.encoder_config.max_length, int8=False, bf16=False),
            weights=weights if weights.is_file() else None,
        )
    extractor = get_extractor(world_products(args.world))
    result: dict = {}
    if args.child == "workers":
        # the workers' start on its own: spawn, import, load the model, score a few
        start, cpu = time.perf_counter(), _cpu_seconds()
        # one email per worker, so that all of them start, as a scoring run starts them
        few = rows[: args.workers]
        score_emails(few, classifier=clf, extractor=extractor, batch_size=1, workers=args.workers)
        result["startup_seconds"] = time.perf_counter() - start
        result["startup_cpu_seconds"] = _cpu_seconds() - cpu
    else:
        score_emails(rows[:32], classifier=clf, extractor=extractor, workers=1)  # warm-up
    start, cpu = time.perf_counter(), _cpu_seconds()
    if args.child == "ours":
        score_emails(rows, classifier=clf, extractor=extractor, workers=1)
    elif args.child == "workers":
        score_emails(rows, classifier=clf, extractor=extractor, workers=args.workers)
    else:
        for row in rows:
            score_emails([row], classifier=clf, extractor=extractor, workers=1)
    seconds = time.perf_counter() - start
    cpu_seconds = _cpu_seconds() - cpu
    result.update({"n": len(rows), "seconds": seconds, "peak_mb": _peak_mb()})
    # CPU of the timed call (this process and the workers it ended), less the workers' start
    # measured on its own: the scoring's own CPU, which a loaded machine changes less than
    # wall time (it shares the cores, not the work)
    result["cpu_seconds"] = cpu_seconds - result.get("startup_cpu_seconds", 0.0)
    args.out.write_text(json.dumps(result), encoding="utf-8")
    return 0


def _cpu_seconds() -> float:
    """User + system CPU of this process and of its children that have ended."""
    t = os.times()
    return t.user + t.system + t.children_user + t.children_system


def _peak_mb() -> float:
    """This process's peak resident memory since it started its program (VmHWM; getrusage's
    ru_maxrss would also count the parent's memory that a fork copied before exec)."""
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024  # kB
    return float("nan")


def _run_child(kind: str, model: Path, world: Path, rows: Path, out: Path, workers: int) -> dict:
    """One child run: {"per_s", "peak_mb" (its process tree, sampled), "own_peak_mb",
    "startup_s" (workers only), "cpu_s" (the tree's user + system CPU seconds)}."""
    import subprocess
    import threading

    from bench.measure import tree_rss_mb

    command = [sys.executable, __file__, "--child", kind, "--model", str(model)]
    command += ["--world", str(world), "--rows", str(rows), "--out", str(out)]
    command += ["--workers", str(workers)]
    before = os.times()
    child = subprocess.Popen(command)
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.1):
            peak[0] = max(peak[0], tree_rss_mb(child.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    code = child.wait()
    done.set()
    sampler.join()
    after = os.times()
    if code != 0:
        raise SystemExit(f"bench child {kind} failed with exit {code}")
    result = json.loads(out.read_text(encoding="utf-8"))
    cpu = (after.children_user - before.children_user) + (
        after.children_system - before.children_system
    )
    return {
        "per_s": result["n"] / result["seconds"],
        "peak_mb": max(peak[0], result["peak_mb"]),
        "own_peak_mb": result["peak_mb"],
        "startup_s": result.get("startup_seconds"),
        "cpu_s": cpu,
        "scoring_cpu_s": result["cpu_seconds"],
    }


def score_stage(
    model: Path,
    world: Path,
    rows: list[dict],
    naive_n: int,
    rounds: int,
    scratch: Path,
    workers: int = 2,
) -> dict:
    """Ours (one process), workers and naive, interleaved over `rounds` (the order
    alternates), medians."""
    ours_file, naive_file = scratch / "rows_ours.json", scratch / "rows_naive.json"
    ours_file.write_text(json.dumps(rows), encoding="utf-8")
    naive_file.write_text(json.dumps(rows[:naive_n]), encoding="utf-8")
    kinds = ("ours", "naive", "workers")
    runs: dict[str, list[dict]] = {kind: [] for kind in kinds}
    load = [os.getloadavg()[0]]
    for r in range(rounds):
        for kind in kinds if r % 2 == 0 else kinds[::-1]:
            rows_file = naive_file if kind == "naive" else ours_file
            run = _run_child(kind, model, world, rows_file, scratch / f"{kind}{r}.json", workers)
            runs[kind].append(run)
            started = f", workers' start {run['startup_s']:.1f} s" if run["startup_s"] else ""
            print(
                f"  round {r + 1} {kind}: {run['per_s']:.1f} emails/s, peak {run['peak_mb']:.0f}"
                f" MB (process tree){started}; load {os.getloadavg()[0]:.2f}"
            )
        load.append(os.getloadavg()[0])

    def median(kind: str, key: str) -> float:
        return statistics.median(run[key] for run in runs[kind])

    ours, naive, multi = (
        median("ours", "per_s"),
        median("naive", "per_s"),
        median("workers", "per_s"),
    )
    startup = median("workers", "startup_s")
    n = len(rows)
    # the workers' rate once started: their start-up is paid once per scoring run
    multi_started = n / max(n / multi - startup, 1e-9)
    return {
        "stage": "score_emails",
        "n": n,
        "naive_n": min(naive_n, n),
        "rounds": rounds,
        "workers": workers,
        "ours_per_s": round(ours, 1),
        "workers_per_s": round(multi, 1),
        "workers_per_s_after_start": round(multi_started, 1),
        "workers_startup_s": round(startup, 2),
        "naive_per_s": round(naive, 1),
        "ratio": round(ours / naive, 2),
        "workers_vs_ours": round(multi / ours, 2),
        "ours_runs_per_s": [round(run["per_s"], 1) for run in runs["ours"]],
        "workers_runs_per_s": [round(run["per_s"], 1) for run in runs["workers"]],
        "naive_runs_per_s": [round(run["per_s"], 1) for run in runs["naive"]],
        "ours_peak_mb": round(max(run["peak_mb"] for run in runs["ours"]), 1),
        "workers_peak_mb": round(max(run["peak_mb"] for run in runs["workers"]), 1),
        "workers_parent_peak_mb": round(max(run["own_peak_mb"] for run in runs["workers"]), 1),
        "naive_peak_mb": round(max(run["peak_mb"] for run in runs["naive"]), 1),
        "ours_cpu_ms_per_email": round(1000 * median("ours", "scoring_cpu_s") / n, 2),
        "workers_cpu_ms_per_email": round(1000 * median("workers", "scoring_cpu_s") / n, 2),
        "ours_child_cpu_s": round(median("ours", "cpu_s"), 1),
        "workers_child_cpu_s": round(median("workers", "cpu_s"), 1),
        "load_1min": [round(x, 2) for x in load],
        "cpu_count": os.cpu_count(),
        "note": (
            "ours: score_emails as the email_predictions asset runs it in one process "
            "(classify + extract with the stock master + embedding, one encoder pass, "
            f"batches of 256, served precision); workers: the same call scored by {workers} "
            "one-thread worker processes (ml.parallel), the workers' start included; naive: "
            "the same code one email at a time with the float32 encoder; each run in its own "
            "process, interleaved; no database or Qdrant writes; CPU ms per email: the timed "
            "call's CPU (workers included, their start measured apart and left out); child "
            "CPU s: the whole child, model loading included"
        ),
    }


def _cycled(examples: list, n: int) -> list[dict]:
    """`n` scoring rows from the world's labelled emails, cycled."""
    return [
        {"email_key": f"b{i}", "subject": ex.subject, "body": ex.body}
        for i, ex in enumerate((examples * (n // max(len(examples), 1) + 1))[:n])
    ]


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
    parser.add_argument("--model", type=Path, help="a trained artifact folder (skips training)")
    parser.add_argument("--rounds", type=int, default=2, help="ours/naive rounds, interleaved")
    parser.add_argument("--naive-n", type=int, default=300, help="emails per naive run")
    parser.add_argument("--stage-n", type=int, default=4000, help="emails per ours and workers run")
    parser.add_argument("--workers", type=int, default=2, help="worker processes (workers run)")
    parser.add_argument(
        "--stage-only",
        action="store_true",
        help="only the ours/workers/naive stage (needs --model)",
    )
    parser.add_argument("--child", choices=("ours", "workers", "naive"), help=argparse.SUPPRESS)
    parser.add_argument("--rows", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--out", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return _child(args)

    import torch

    from ml.bootstrap import HANDWRITTEN_SETS
    from ml.classifier import EmailClassifier, decide
    from ml.data import load_eval_sets, load_world_examples
    from ml.encoder import Encoder, EncoderConfig, native_bf16
    from ml.extract import get_extractor
    from ml.extract.evaluate import world_products
    from ml.metrics import classification_report
    from ml.pipeline import score_emails
    from ml.text import classification_text, extraction_text
    from ml.train import (
        ENCODER_WEIGHTS,
        ModelArtifact,
        TrainConfig,
        group_split,
        split_groups,
        train,
    )

    figures: dict = {
        "cpu_threads": torch.get_num_threads(),
        "native_bf16": native_bf16(),
        "load_1min_at_start": round(os.getloadavg()[0], 2),
    }
    scratch = Path(tempfile.mkdtemp(prefix="bench_ml_"))
    world = args.world or _generate_world(scratch / "world")
    examples = load_world_examples(world)
    evaluation = load_eval_sets(HANDWRITTEN_SETS)
    print(
        f"world {world}: {len(examples)} labelled emails; hand-written sets: "
        + (", ".join(f"{k} {len(v)}" for k, v in evaluation.items()) or "absent")
    )

    # 1. Training time of the default model, from a cold model store (or a given model).
    if args.model:
        path = args.model.resolve()
        metrics = json.loads((path / "metrics.json").read_text(encoding="utf-8"))
        artifact = ModelArtifact(path.name, path, metrics, reused=True)
        print(f"model {path} (not trained here)")
    else:
        start = time.perf_counter()
        artifact = train(examples, home=scratch / "home", eval_examples=evaluation, force=True)
        figures["train_seconds"] = round(time.perf_counter() - start, 1)
        print(
            f"training ({len(examples)} emails, incl. baseline and calibration): "
            f"{figures['train_seconds']}s"
        )
    figures["default_model"] = {k: artifact.metrics.get(k) for k in ("heldout", *HANDWRITTEN_SETS)}

    def shipped_stage() -> dict:
        """2b. The shipped path in one process, in workers, and the naive one, in child
        processes, interleaved."""
        print(
            f"ours vs workers vs naive (load average {os.getloadavg()[0]:.2f} on "
            f"{os.cpu_count()} CPUs):"
        )
        stage = score_stage(
            artifact.path,
            world,
            _cycled(examples, args.stage_n),
            args.naive_n,
            args.rounds,
            scratch,
            args.workers,
        )
        print(
            f"score_emails: ours {stage['ours_per_s']} emails/s, {args.workers} workers "
            f"{stage['workers_per_s']} emails/s ({stage['workers_per_s_after_start']} after "
            f"their {stage['workers_startup_s']} s start), naive {stage['naive_per_s']} "
            f"emails/s, ratio {stage['ratio']}; peak {stage['ours_peak_mb']} MB, "
            f"{stage['workers_peak_mb']} MB with workers, {stage['naive_peak_mb']} MB naive"
        )
        return stage

    if args.stage_only:
        figures["stages"] = [shipped_stage()]
        if args.json:
            args.json.write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")
        print(json.dumps({k: v for k, v in figures.items() if k != "default_model"}, indent=2))
        return 0

    # 2. End-to-end scoring on typical mail (the world's own emails, cycled to --n), in
    # this process (torch's threads).
    rows = _cycled(examples, args.n)
    clf = EmailClassifier(artifact.path)
    extractor = get_extractor(world_products(world))  # the world's stock master
    score_emails(rows[:64], classifier=clf, extractor=extractor, workers=1)  # warm-up
    seconds = _timed(
        lambda: score_emails(rows, classifier=clf, extractor=extractor, workers=1), repeat=2
    )
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

    figures["stages"] = [shipped_stage()]

    # 3. Encoder speed-ups and their accuracy cost. The fine-tuned encoder of the default
    # model is served under each setting with the same head; accuracy is measured on the
    # default model's held-out split (generated mail the model never trained on).
    bf16_default = " (default)" if native_bf16() else " (default, AMX absent: not used)"
    settings = [
        # (label, threads, max_length, int8, bucketing, bf16)
        ("fp32, 1 thread, 128 tok, no bucketing", 1, 128, False, False, False),
        ("fp32, 2 threads, 128 tok, no bucketing", 2, 128, False, False, False),
        ("fp32, 2 threads, 128 tok, bucketing", 2, 128, False, True, False),
        ("fp32, 2 threads, 64 tok, bucketing", 2, 64, False, True, False),
        ("int8, 2 threads, 128 tok, bucketing", 2, 128, True, True, False),
        (
            "int8, 2 threads, 64 tok, bucketing" + ("" if native_bf16() else " (default)"),
            2,
            64,
            True,
            True,
            False,
        ),
        ("bf16 (AMX), 1 thread, 64 tok, bucketing", 1, 64, True, True, True),
        ("bf16 (AMX), 2 threads, 64 tok, bucketing" + bf16_default, 2, 64, True, True, True),
    ]
    if not native_bf16():
        settings = [s for s in settings if not s[5]]  # it would be int8 again
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
    for label, threads, max_length, int8, bucket, bf16 in settings:
        torch.set_num_threads(threads)
        enc = Encoder(
            EncoderConfig(max_length=max_length, int8=int8, bf16=bf16),
            weights=weights if weights.is_file() else None,
        )
        enc.encode(sample[:32])
        per_s = len(sample) / _timed(
            lambda e=enc, b=bucket: e.encode(sample, bucket_by_length=b), 2
        )
        row = {"setting": label, "precision": enc.precision, "encode_per_s": round(per_s, 1)}
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

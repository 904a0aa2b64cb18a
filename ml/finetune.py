"""Fine-tuning the sentence encoder together with the classification head.

The frozen, mean-pooled MiniLM embedding blurs the few words that separate one intent from
another, so the encoder is trained on the labelled mail: a linear head over the
L2-normalised mean-pooled output (the very vector semantic search uses), cross-entropy
with label smoothing, AdamW with linear warm-up and decay, batches bucketed by length.
Random token dropping makes the model lean on more than one cue per email, which is what
carries it to phrasings the generated mail never used.

Everything is seeded and single-process, so the same data and configuration give the same
weights on the same machine.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class FineTuneConfig:
    """Fine-tuning hyper-parameters (part of the model version)."""

    #: Off: the pre-trained encoder stays frozen and a logistic-regression head is fitted.
    enabled: bool = True
    epochs: int = 3
    #: At least this many optimiser steps, so that small data sets still learn something.
    min_steps: int = 120
    batch_size: int = 32
    learning_rate: float = 8e-5
    head_learning_rate: float = 3e-3
    weight_decay: float = 0.01
    warmup_fraction: float = 0.1
    #: How many of the encoder's 6 transformer layers are trained (from the top); the token
    #: embeddings stay frozen unless all layers train.
    train_layers: int = 6
    #: Dropout inside the encoder (attention and hidden) and before the head while training.
    dropout: float = 0.1
    label_smoothing: float = 0.1
    #: Share of each training email's tokens dropped at random (fresh every epoch).
    token_drop: float = 0.1
    #: Logits are this scale times a linear map of the unit-length embedding.
    logit_scale: float = 16.0
    #: Share of the training split kept aside to fit the temperature.
    calibration_fraction: float = 0.12
    threads: int = 2


@dataclass
class FineTuned:
    """The result of :func:`fine_tune`."""

    state_dict: dict
    coef: np.ndarray  # (n_classes, 384), applies to the unit-length embedding
    intercept: np.ndarray  # (n_classes,)
    seconds: float
    steps: int
    losses: list[float]


def _batches(lengths: Sequence[int], batch_size: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Index batches of similar length, in random order (bucketing: little padding)."""
    order = rng.permutation(len(lengths))
    # Sort a shuffled order by length so equal lengths are mixed differently each epoch.
    order = order[np.argsort(np.asarray(lengths)[order], kind="stable")]
    batches = [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
    return [batches[i] for i in rng.permutation(len(batches))]


def _drop_tokens(ids: list[int], rate: float, rng: np.random.Generator) -> list[int]:
    """`ids` without a random `rate` of its inner tokens ([CLS] and [SEP] stay)."""
    if rate <= 0 or len(ids) <= 4:
        return ids
    inner = ids[1:-1]
    keep = rng.random(len(inner)) >= rate
    if not keep.any():
        keep[rng.integers(len(inner))] = True
    return [ids[0], *(t for t, k in zip(inner, keep, strict=True) if k), ids[-1]]


def fine_tune(
    texts: Sequence[str],
    targets: np.ndarray,
    n_classes: int,
    sample_weights: np.ndarray,
    config: FineTuneConfig,
    max_length: int,
    seed: int,
) -> FineTuned:
    """Fine-tune the encoder and a linear head on `texts` labelled with class `targets`."""
    import torch

    from ml.encoder import load_base_model, mean_pool

    started = time.perf_counter()
    torch.manual_seed(seed)
    rng = np.random.default_rng(seed)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(config.threads)
    try:
        model, tokenizer = load_base_model()
        for module in model.modules():
            if isinstance(module, torch.nn.Dropout):
                module.p = config.dropout
        layers = model.encoder.layer
        n_train = max(0, min(config.train_layers, len(layers)))
        for param in model.parameters():
            param.requires_grad = False
        for layer in layers[len(layers) - n_train :]:
            for param in layer.parameters():
                param.requires_grad = True
        if n_train >= len(layers):
            for param in model.embeddings.parameters():
                param.requires_grad = True
        model.pooler = None  # unused; keeps it out of the optimiser and the saved weights

        dim = model.config.hidden_size
        head = torch.nn.Linear(dim, n_classes)
        torch.nn.init.normal_(head.weight, std=0.02)
        torch.nn.init.zeros_(head.bias)
        head_dropout = torch.nn.Dropout(config.dropout)

        # Balanced class weights (as the frozen model's head used) times per-row weights.
        counts = np.bincount(targets, minlength=n_classes).astype(np.float64)
        present = counts > 0
        class_w = np.zeros(n_classes)
        class_w[present] = len(targets) / (present.sum() * counts[present])
        row_w = torch.tensor(class_w[targets] * sample_weights, dtype=torch.float32)
        y = torch.tensor(targets, dtype=torch.long)

        ids = tokenizer(list(texts), truncation=True, max_length=max_length, padding=False)[
            "input_ids"
        ]
        lengths = [len(t) for t in ids]
        per_epoch = math.ceil(len(ids) / config.batch_size)
        epochs = max(config.epochs, math.ceil(config.min_steps / max(per_epoch, 1)))
        total = epochs * per_epoch
        warmup = max(1, int(total * config.warmup_fraction))

        decay, no_decay = [], []
        for name, param in model.named_parameters():
            if param.requires_grad:
                (no_decay if param.ndim < 2 or "LayerNorm" in name else decay).append(param)
        optimiser = torch.optim.AdamW(
            [
                {"params": decay, "weight_decay": config.weight_decay},
                {"params": no_decay, "weight_decay": 0.0},
                {
                    "params": list(head.parameters()),
                    "weight_decay": 0.0,
                    "lr": config.head_learning_rate,
                },
            ],
            lr=config.learning_rate,
        )
        schedule = torch.optim.lr_scheduler.LambdaLR(
            optimiser,
            lambda step: (
                (step + 1) / warmup
                if step < warmup
                else max(0.0, (total - step) / max(1, total - warmup))
            ),
        )
        loss_fn = torch.nn.CrossEntropyLoss(
            reduction="none", label_smoothing=config.label_smoothing
        )
        pad_id = tokenizer.pad_token_id or 0
        model.train()
        losses: list[float] = []
        step = 0
        for _epoch in range(epochs):
            running, seen = 0.0, 0
            for batch in _batches(lengths, config.batch_size, rng):
                rows = [_drop_tokens(ids[i], config.token_drop, rng) for i in batch]
                width = max(len(r) for r in rows)
                input_ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(rows), width), dtype=torch.long)
                for r, row in enumerate(rows):
                    input_ids[r, : len(row)] = torch.tensor(row)
                    mask[r, : len(row)] = 1
                hidden = model(
                    input_ids=input_ids,
                    attention_mask=mask,
                    token_type_ids=torch.zeros_like(input_ids),
                ).last_hidden_state
                unit = mean_pool(hidden, mask)
                logits = config.logit_scale * head(head_dropout(unit))
                idx = torch.as_tensor(batch)
                w = row_w[idx]
                loss = (loss_fn(logits, y[idx]) * w).sum() / w.sum()
                optimiser.zero_grad(set_to_none=True)
                loss.backward()
                torch.nn.utils.clip_grad_norm_(
                    [p for g in optimiser.param_groups for p in g["params"]], 1.0
                )
                optimiser.step()
                schedule.step()
                step += 1
                running += float(loss.detach()) * len(batch)
                seen += len(batch)
            losses.append(round(running / max(seen, 1), 4))
            log.info("fine-tune epoch %d/%d: loss %.4f", _epoch + 1, epochs, losses[-1])
        model.eval()
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        # Serving computes embedding @ coef.T + intercept: fold the logit scale into coef.
        coef = (config.logit_scale * head.weight.detach()).numpy().astype(np.float64)
        intercept = (config.logit_scale * head.bias.detach()).numpy().astype(np.float64)
    finally:
        torch.set_num_threads(previous_threads)
    return FineTuned(state, coef, intercept, time.perf_counter() - started, step, losses)

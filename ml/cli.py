"""`pebble predict` and `pebble train`: batch scoring and (re)training from the shell.

Heavy libraries (torch, transformers, scikit-learn) load inside the commands, so
`pebble --help` stays instant.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer


def _say(message: str) -> None:
    typer.echo(message, err=True)


def read_predict_input(path: Path) -> list[dict[str, Any]]:
    """Rows of a predict input file; raises ValueError listing every bad line."""
    rows, problems = [], []
    with open(path, encoding="utf-8", errors="strict") as fh:
        for lineno, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                row = json.loads(line)
            except json.JSONDecodeError as exc:
                problems.append(f"{path}:{lineno}: not valid JSON ({exc.msg})")
                continue
            if not isinstance(row, dict):
                problems.append(f"{path}:{lineno}: expected a JSON object")
                continue
            if row.get("id") is None or str(row["id"]) == "":
                problems.append(f"{path}:{lineno}: missing 'id'")
            for name in ("subject", "body", "from"):
                if row.get(name) is not None and not isinstance(row[name], str):
                    problems.append(f"{path}:{lineno}: '{name}' must be a string")
            if not (row.get("subject") or row.get("body")):
                problems.append(f"{path}:{lineno}: needs a 'subject' or a 'body'")
            rows.append(row)
    if problems:
        raise ValueError("\n".join(problems))
    return rows


def _public_entity(entity: dict[str, Any]) -> dict[str, Any]:
    out = {k: entity.get(k) for k in ("label", "text", "value")}
    if entity.get("valid") is not None:
        out["valid"] = entity["valid"]
    return out


#: Metrics blocks shown after training: key and row label.
_METRIC_BLOCKS = (
    ("heldout", "held-out split"),
    ("handwritten", "hand-written v2 (fresh)"),
    ("handwritten_v1", "hand-written v1 (frozen, leaked)"),
)


def _metrics_table(metrics: dict[str, Any]) -> Any:
    from rich.table import Table

    from ml.train import MODEL_NAMES

    table = Table(title=f"Classifier {metrics.get('version', '')}")
    for col in ("data", "model", "n", "stream F1", "intent F1", "accuracy", "ECE", "review"):
        table.add_column(col, justify="right" if col not in ("data", "model") else "left")
    for data_name, label in _METRIC_BLOCKS:
        block = metrics.get(data_name) or {}
        if data_name == "heldout" and block.get("measures"):
            label = f"held-out ({block['measures']})"
        for model_name in MODEL_NAMES:
            report = block.get(model_name)
            if not report:
                continue
            table.add_row(
                label,
                model_name,
                str(report["n"]),
                f"{report['stream_macro_f1']:.3f}",
                f"{report['intent_macro_f1']:.3f}",
                f"{report['intent_accuracy']:.3f}",
                f"{report['ece']:.3f}",
                f"{report['review_rate']:.0%}",
            )
    return table


def _weak_intents(metrics: dict[str, Any], bar: float = 0.85) -> list[str]:
    report = (metrics.get("handwritten") or {}).get("transformer") or {}
    return [f"{k} ({v:.2f})" for k, v in report.get("per_intent_f1", {}).items() if v < bar]


def register(app: typer.Typer) -> None:
    """Add `predict` and `train` to the `pebble` command."""

    @app.command()
    def predict(
        input: Annotated[
            Path,
            typer.Option(
                "--input",
                "-i",
                help="JSON Lines: {id, subject, body, from?}.",
                exists=True,
                dir_okay=False,
                readable=True,
            ),
        ],
        output: Annotated[
            Path | None,
            typer.Option("--output", "-o", help="Where to write results (default: stdout)."),
        ] = None,
        batch_size: Annotated[int, typer.Option(min=1, help="Emails per encoder batch.")] = 256,
    ) -> None:
        """Classify emails and extract their entities; one JSON line out per line in."""
        try:
            rows = read_predict_input(input)
        except (ValueError, UnicodeDecodeError) as exc:
            _say(f"Nothing written: the input has problems:\n{exc}")
            raise typer.Exit(2) from None

        from ml.bootstrap import TrainingCorpusMissing, ensure_classifier
        from ml.pipeline import score_emails

        try:
            classifier = ensure_classifier(say=_say)
        except TrainingCorpusMissing as exc:
            _say(str(exc))
            raise typer.Exit(2) from None
        scored = score_emails(
            ({**row, "email_key": str(row["id"])} for row in rows),
            classifier=classifier,
            batch_size=batch_size,
            with_embedding=False,
        )
        lines = []
        for row, result in zip(rows, scored, strict=True):
            out = dict(row)
            out.update(
                stream=result["stream"],
                intent=result["intent"],
                confidence=result["confidence"],
                requires_review=result["requires_review"],
                entities=[_public_entity(e) for e in result["entities"]],
            )
            lines.append(json.dumps(out, ensure_ascii=False))
        text = "".join(line + "\n" for line in lines)
        if output is None:
            sys.stdout.write(text)
            sys.stdout.flush()
        else:
            tmp = output.with_name(f".{output.name}.tmp")
            tmp.write_text(text, encoding="utf-8")
            tmp.replace(output)
            _say(f"Wrote {len(lines)} predictions to {output} (model {classifier.version}).")

    @app.command()
    def train(
        corpus: Annotated[
            Path | None,
            typer.Option(
                "--corpus",
                "--world",
                help="Labelled mail to learn from, in the world format (mail/truth.jsonl + "
                "Maildir; default: $PEBBLE_TRAINING_DIR or $PEBBLE_HOME/training).",
            ),
        ] = None,
        corrections: Annotated[
            Path | None,
            typer.Option(
                help="JSON Lines of human corrections {text, stream, intent}.",
                exists=True,
                dir_okay=False,
            ),
        ] = None,
        eval_set: Annotated[
            Path | None,
            typer.Option(
                "--eval",
                help="Labelled JSON Lines measured after training (default: "
                "the hand-written set, if present). Never trained on.",
            ),
        ] = None,
        max_tokens: Annotated[
            int, typer.Option(min=16, max=512, help="Token budget per email.")
        ] = 64,
        int8: Annotated[
            bool,
            typer.Option(help="Dynamic int8 quantisation of the encoder (where bf16 is not used)."),
        ] = True,
        bf16: Annotated[
            bool,
            typer.Option(help="Serve the encoder in bfloat16 on a CPU with AMX (else int8/fp32)."),
        ] = False,
        fine_tune: Annotated[
            bool,
            typer.Option(
                help="Fine-tune the encoder with the head (off: frozen encoder + linear head)."
            ),
        ] = True,
        force: Annotated[
            bool, typer.Option(help="Retrain even if this exact model exists.")
        ] = False,
    ) -> None:
        """(Re)train the classifier and the TF-IDF baseline; print both models' metrics."""
        from rich.console import Console

        from ml.bootstrap import HANDWRITTEN_EVAL, TrainingCorpusMissing, train_default
        from ml.data import DataError, load_corrections
        from ml.encoder import EncoderConfig
        from ml.finetune import FineTuneConfig
        from ml.train import TrainConfig

        try:
            pairs = load_corrections(corrections) if corrections is not None else []
        except DataError as exc:
            _say(str(exc))
            raise typer.Exit(2) from None
        config = TrainConfig(
            encoder=EncoderConfig(max_length=max_tokens, int8=int8, bf16=bf16),
            finetune=FineTuneConfig(enabled=fine_tune),
        )
        try:
            artifact = train_default(
                corpus,
                corrections=pairs,
                eval_path=eval_set or HANDWRITTEN_EVAL,
                force=force,
                config=config,
                say=_say,
            )
        except TrainingCorpusMissing as exc:
            _say(str(exc))
            raise typer.Exit(2) from None
        except (DataError, ValueError) as exc:
            _say(f"Training failed: {exc}")
            raise typer.Exit(2) from None
        console = Console()
        if not console.is_terminal:
            console.width = 120  # a log or pipe: do not squeeze the table to 80 columns
        console.print(_metrics_table(artifact.metrics))
        weak = _weak_intents(artifact.metrics)
        if weak:
            console.print(f"Intents below 0.85 F1 on the hand-written v2 set: {', '.join(weak)}")
        console.print(f"Model {artifact.version} at {artifact.path} is now the latest.")

import json
import os
import subprocess
import sys
from pathlib import Path

from typer.testing import CliRunner

from ml.taxonomy import stream_of
from pebble.settings import PROJECT_ROOT, get_settings

INPUT = [
    {
        "id": "q1",
        "subject": "Rate required",
        "from": "ramesh@abcpaints.in",
        "body": "Dear Sir,\nPlease send your best rate for 2 MT titanium dioxide.\n"
        "Our GSTIN 27AAPFU0939F1ZV\n\nRegards,\nRamesh",
    },
    {
        "id": "q2",
        "subject": "Automatic reply: Out of Office",
        "body": "I am out of the office until 20 Nov with no access to email.",
    },
]


def _write_input(path: Path) -> Path:
    path.write_text("".join(json.dumps(r) + "\n" for r in INPUT), encoding="utf-8")
    return path


def _run(args: list[str], home: Path, **env: str) -> subprocess.CompletedProcess:
    full_env = {**os.environ, "PEBBLE_HOME": str(home), **env}
    return subprocess.run(
        [sys.executable, "-m", "pebble.cli", *args],
        cwd=PROJECT_ROOT,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=300,
    )


def test_predict_end_to_end(home_with_model: Path, tmp_path: Path) -> None:
    src = _write_input(tmp_path / "in.jsonl")
    result = _run(["predict", "--input", str(src)], home_with_model)
    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in lines] == ["q1", "q2"]
    for row, original in zip(lines, INPUT, strict=True):
        assert row["body"] == original["body"]  # input fields are passed through
        assert stream_of(row["intent"]) == row["stream"]
        assert isinstance(row["requires_review"], bool) and 0 <= row["confidence"] <= 1
        assert all({"label", "text", "value"} <= set(e) for e in row["entities"])
    assert lines[0]["stream"] == "crm" and lines[1]["intent"] == "auto_reply"
    assert any(e["label"] == "GSTIN" and e["valid"] is True for e in lines[0]["entities"])

    out = tmp_path / "out.jsonl"
    result = _run(["predict", "-i", str(src), "-o", str(out)], home_with_model)
    assert result.returncode == 0, result.stderr
    assert [json.loads(x) for x in out.read_text().splitlines()] == lines


def test_predict_rejects_bad_input_and_writes_nothing(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "x1", "subject": "ok", "body": "fine"}\n{not json\n{"body": "no id"}\n')
    out = tmp_path / "out.jsonl"
    result = _run(["predict", "-i", str(bad), "-o", str(out)], tmp_path / "home")
    assert result.returncode == 2
    assert "bad.jsonl:2: not valid JSON" in result.stderr
    assert "bad.jsonl:3: missing 'id'" in result.stderr
    assert not out.exists()
    assert not (tmp_path / "home" / "models").exists()  # failed before touching any model


def test_predict_on_a_fresh_install_trains_first(tiny_world: Path, tmp_path, monkeypatch) -> None:
    import ml.train
    from ml.finetune import FineTuneConfig
    from pebble.cli import app

    # The default configuration, with just enough fine-tuning to run the path quickly.
    quick = ml.train.TrainConfig(finetune=FineTuneConfig(epochs=1, min_steps=4))
    monkeypatch.setattr(ml.train, "TrainConfig", lambda: quick)
    home = tmp_path / "fresh"
    monkeypatch.setenv("PEBBLE_HOME", str(home))
    monkeypatch.setenv("PEBBLE_TRAINING_DIR", str(tiny_world))
    get_settings.cache_clear()
    try:
        src = _write_input(tmp_path / "in.jsonl")
        result = CliRunner().invoke(app, ["predict", "--input", str(src)])
    finally:
        get_settings.cache_clear()
    assert result.exit_code == 0, result.output
    assert "No trained classifier" in result.stderr
    assert (home / "models" / "classifier" / "latest").is_file()
    rows = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["id"] for r in rows] == ["q1", "q2"]


def test_predict_without_model_or_corpus_says_how_to_make_one(tmp_path: Path) -> None:
    src = _write_input(tmp_path / "in.jsonl")
    empty = tmp_path / "no-corpus"
    result = _run(
        ["predict", "--input", str(src)], tmp_path / "home", PEBBLE_TRAINING_DIR=str(empty)
    )
    assert result.returncode == 2
    assert f"No labelled training mail at {empty}" in result.stderr
    assert f"pebble demo generate --seed 8 --out {empty}" in result.stderr
    assert "Traceback" not in result.stderr
    assert result.stdout == ""

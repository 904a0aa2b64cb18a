"""One source for the labels: ml.taxonomy, and the dbt seed generated from it."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pytest

from ml import taxonomy
from ml.taxonomy import INTENT_STREAM, INTENTS, SEED_PATH, STREAMS, check_label

DBT = SEED_PATH.parents[1]


def test_the_dbt_seed_is_current() -> None:
    assert taxonomy.seed_is_current(), "run: python -m ml.taxonomy --write-seed"
    with SEED_PATH.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert [(r["intent"], r["stream"]) for r in rows] == list(INTENT_STREAM.items())
    assert {r["stream"] for r in rows} == set(STREAMS)


def test_a_stale_seed_is_found_and_rewritten(tmp_path: Path, capsys) -> None:
    seed = tmp_path / "seeds" / "taxonomy_labels.csv"
    assert taxonomy.main(["--check-seed", "--path", str(seed)]) == 1  # missing
    seed.parent.mkdir()
    seed.write_text("intent,stream\nprice_enquiry,crm\n", encoding="utf-8")
    assert taxonomy.main(["--check-seed", "--path", str(seed)]) == 1  # an intent short
    assert "--write-seed" in capsys.readouterr().err
    assert taxonomy.main(["--write-seed", "--path", str(seed)]) == 0
    assert taxonomy.main(["--check-seed", "--path", str(seed)]) == 0
    assert seed.read_text(encoding="utf-8").count("\n") == len(INTENTS) + 1


def test_dbt_tests_labels_against_the_seed_not_literal_lists() -> None:
    for yml in (DBT / "models").rglob("*.yml"):
        text = yml.read_text(encoding="utf-8")
        assert "values: [crm" not in text, yml
        # a literal list of intents (two or more of them; a voucher class may share a name)
        for listed in re.findall(r"values:\s*\[([^\]]*)\]", text):
            names = {v.strip().strip("'\"") for v in listed.split(",")}
            assert len(names & set(INTENTS)) < 2, (yml, listed)


def test_labels_are_checked() -> None:
    check_label("crm", "new_business")
    with pytest.raises(ValueError, match="belongs to stream 'crm'"):
        check_label("other", "new_business")
    with pytest.raises(ValueError, match="unknown stream"):
        check_label("sales", "new_business")

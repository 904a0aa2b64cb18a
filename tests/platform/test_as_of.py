"""The day the ERP marts age things against (dbt macro ``erp_as_of_date``): today unless the
var or PEBBLE_AS_OF_DATE pins it; the demo pins it to the day after its world ends, so a
demo started a year after its world still shows receivables in every ageing bucket and open
deals instead of everything a year old."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from pebble import db
from pebble.demo_stack import demo_as_of

ROOT = Path(__file__).resolve().parents[2]


def _as_of(pebble_env: str, extra_env: dict[str, str], *args: str) -> str:
    env = {**db.dbt_env(pebble_env), **extra_env}
    out = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "dbt"), "show", "--inline",
         "select {{ erp_as_of_date() }} as as_of", "--output", "json", "--log-format", "json",
         *args],
        cwd=ROOT / "dbt", env={**os.environ, **env}, capture_output=True,
        text=True, check=True,
    ).stdout  # fmt: skip
    for line in out.splitlines():
        data = json.loads(line).get("data", {})
        if "preview" in data:
            return json.loads(data["preview"])[0]["as_of"]
    raise AssertionError(out)


def test_the_setting_pins_the_day_and_the_var_wins(pebble_env: str, monkeypatch) -> None:
    monkeypatch.delenv("PEBBLE_AS_OF_DATE", raising=False)
    now = datetime.now(UTC)
    today = {now.date(), now.astimezone(ZoneInfo("Asia/Kolkata")).date()}
    assert date.fromisoformat(_as_of(pebble_env, {})) in today
    assert _as_of(pebble_env, {"PEBBLE_AS_OF_DATE": "2025-12-01"}) == "2025-12-01"
    pinned = _as_of(pebble_env, {"PEBBLE_AS_OF_DATE": "2025-12-01"},
                    "--vars", '{"erp_as_of_date": "2025-07-01"}')  # fmt: skip
    assert pinned == "2025-07-01"
    with pytest.raises(subprocess.CalledProcessError):
        _as_of(pebble_env, {"PEBBLE_AS_OF_DATE": "1 Dec 2025; drop table x"})


def test_the_demo_is_aged_as_of_the_day_after_its_world(tmp_path: Path) -> None:
    from demo.world import generate_world

    assert demo_as_of({"end_date": "2025-11-30"}) == date(2025, 12, 1)
    generate_world(tmp_path, seed=11, scale=0.02)
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    last_mail = max(
        json.loads(line)["date"][:10]
        for line in (tmp_path / "mail" / "truth.jsonl").read_text().splitlines()
    )
    assert date.fromisoformat(last_mail) < demo_as_of(manifest)  # nothing after it

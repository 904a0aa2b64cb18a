"""The benchmark report's harness (bench/report.py) and its measured paths (bench/stages.py):
the exponent fit, the rendering, the peak-memory measurement of a real child process, and
that each naive baseline does the same records as ours. Nothing here is timed."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))  # the bench scripts import each other by name

from bench import render, report, script_stages, stages  # noqa: E402


def _rows() -> list[dict]:
    rows = []
    for scale in (1, 10, 100):
        n = 1000 * scale
        naive_n = min(n, 20_000)  # the naive path sampled at scale 100
        rows.append(
            {
                "stage": "mail",
                "scale": scale,
                "n": n,
                "ours_n": n,
                "naive_n": naive_n,
                "ours_s": n / 3000,  # linear
                "naive_s": (naive_n / 100) ** 2 / 1000,  # quadratic
                "ours_per_s": 3000.0,
                "naive_per_s": 100.0,
                "ratio": 30.0,
                "ours_peak_mb": 150.0,  # flat
                "naive_peak_mb": naive_n / 100,  # linear
                "note": "naive on a sample of 20,000 of 100,000" if naive_n < n else "",
            }
        )
    rows.append(
        {"stage": "dbt_full_build", "scale": 1, "n": 2900, "ours_s": 14.0, "ours_per_s": 207.1}
    )
    return rows


def test_fit_exponent_recovers_the_power() -> None:
    assert render.fit_exponent([(n, 3 * n**1.5) for n in (1, 10, 100)]) == pytest.approx(1.5)
    assert render.fit_exponent([(10, 5.0), (100, 5.0)]) == pytest.approx(0.0)
    assert render.fit_exponent([(10, 1.0), (10, 2.0)]) is None  # one size: no slope
    assert render.fit_exponent([(10, 1.0), (None, 2.0), (100, 0)]) is None


def test_exponents_per_path_on_each_paths_own_n() -> None:
    (fit,) = render.exponents(_rows())  # dbt ran at one scale only: no fit
    assert fit["stage"] == "mail"
    assert fit["ours_time"] == pytest.approx(1.0)
    assert fit["ours_memory"] == pytest.approx(0.0)
    # the naive path's n is its sample, so its quadratic time is seen as such
    assert fit["naive_time"] == pytest.approx(2.0)
    assert fit["naive_memory"] == pytest.approx(1.0)


def test_render_has_every_stage_ratio_exponent_and_reason() -> None:
    rows = _rows()
    text = render.render(
        {
            "command": "bench/report.py --scales 1,10,100",
            "machine": {
                "date_utc": "2026-12-04 17:00 UTC",
                "git_commit": "abc1234",
                "cores": 2,
                "ram_gb": 23.4,
                "python": "3.11.9",
                "postgres": "15.2",
                "load_average_start": [1.0, 1.0, 1.0],
                "load_average_end": [2.0, 1.5, 1.0],
            },
            "wall_s": 600.0,
            "stages": rows,
            "exponents": render.exponents(rows),
            "scales_by_stage": {"mail": [1, 10, 100], "dbt": [1]},
            "not_run": [{"stage": "focus", "reason": "bench/bench_focus.py has no --json yet"}],
        }
    )
    assert "## Email parse and land" in text
    assert "## dbt full build" in text
    assert "**30.0x**" in text
    assert "∝ n^1.00" in text and "∝ n^2.00" in text
    assert "naive on a sample of 20,000 of 100,000" in text
    assert "**focus**: bench/bench_focus.py has no --json yet" in text
    assert "commit abc1234" in text and "2 cores" in text
    # every table row has as many cells as its header
    for block in text.split("\n\n"):
        table = [line for line in block.splitlines() if line.startswith("|")]
        if table:
            assert len({line.count("|") for line in table}) == 1, block


def test_run_measured_sees_the_childs_peak_memory(tmp_path: Path) -> None:
    # 200 MB written (not just reserved), in a grandchild: the tree's peak must include it
    code = (
        "import subprocess, sys; subprocess.run([sys.executable, '-c',"
        " 'import time; b = b\"x\" * (200 * 2**20); time.sleep(0.5)'], check=True)"
    )
    measured = report.run_measured(
        [sys.executable, "-c", code], {"PATH": "/usr/bin:/bin"}, 60, tmp_path / "log"
    )
    assert measured.code == 0
    assert measured.peak_mb > 190


def test_a_small_child_is_not_reported_at_the_harness_size(tmp_path: Path) -> None:
    blob = b"x" * (300 * 2**20)  # this process is large when it starts the child
    measured = report.run_measured(
        [sys.executable, "-c", "import time; time.sleep(0.5)"],
        {"PATH": "/usr/bin:/bin"},
        60,
        tmp_path / "log",
    )
    assert len(blob) and measured.code == 0
    assert 1 < measured.peak_mb < 100


def test_run_measured_reports_a_failing_child(tmp_path: Path) -> None:
    measured = report.run_measured(
        [sys.executable, "-c", "import sys; print('boom'); sys.exit(3)"],
        {"PATH": "/usr/bin:/bin"},
        60,
        tmp_path / "log",
    )
    assert measured.code == 3
    assert "boom" in measured.output


def test_bad_options_are_refused(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        report.main(["--stages", "mail,nonsense"])
    assert "unknown stage(s) nonsense" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        report.main(["--scales", "1,-10"])
    assert "scales must be positive" in capsys.readouterr().err


def test_a_script_without_json_is_a_reason_not_a_crash() -> None:
    assert script_stages._script_supports("bench_dbt.py", "--json") is None
    missing = script_stages._script_supports("bench_dbt.py", "--json", "no-such-option-anywhere")
    assert missing == "bench/bench_dbt.py has no no-such-option-anywhere yet"
    assert "does not exist" in script_stages._script_supports("bench_nothing.py", "--json")


def _migrated(url: str, stage: str) -> None:
    import psycopg

    from pebble import db

    db.upgrade(url)
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in stages.setup_sql(stage):
            conn.execute(statement)


@pytest.mark.parametrize("stage", ["mail", "prelead"])
def test_naive_loads_the_same_records_as_ours(
    stage: str, fresh_database_url: str, tmp_path: Path
) -> None:
    import psycopg

    facts = stages.prepare(stage, 0.01, tmp_path)  # 30 emails / 100 lead rows
    _migrated(fresh_database_url, stage)
    ours = stages.PATHS[(stage, "ours")](fresh_database_url, tmp_path, None)
    naive = stages.PATHS[(stage, "naive")](fresh_database_url, tmp_path, None)
    assert ours == naive == facts["n"]
    with psycopg.connect(fresh_database_url) as conn:
        if stage == "mail":
            # the naive copy has the same messages (ours stores Message-IDs without <>)
            query = "SELECT message_id FROM {} ORDER BY 1"
            ours_rows = conn.execute(query.format("raw.emails")).fetchall()
            naive_rows = conn.execute(query.format("raw.bench_naive_emails")).fetchall()
            assert [r[0].strip("<>") for r in naive_rows] == [r[0] for r in ours_rows]
        else:
            # the same validation verdict for every row
            verdicts = conn.execute(
                "SELECT batch, array_agg(is_valid ORDER BY row_no) FROM raw.prelead_rows"
                " GROUP BY batch ORDER BY batch"
            ).fetchall()
            assert [b for b, _ in verdicts] == ["bench-naive", "bench-ours"]
            assert verdicts[0][1] == verdicts[1][1]
            assert not all(verdicts[0][1]) and any(verdicts[0][1])


def test_naive_tally_parse_reads_the_same_vouchers(tmp_path: Path) -> None:
    pytest.importorskip("xmltodict")
    facts = stages.prepare("tally", 0.01, tmp_path)  # the smallest export: 2,000 vouchers
    assert stages.tally_ours("", tmp_path, None) == facts["n"]
    assert stages.tally_naive("", tmp_path, None) == facts["n"]


def test_events_ours_and_naive_append_what_they_are_asked(fresh_database_url: str) -> None:
    import psycopg

    _migrated(fresh_database_url, "events")
    assert stages.PATHS[("events", "ours")](fresh_database_url, Path("."), 50) == 50
    assert stages.PATHS[("events", "naive")](fresh_database_url, Path("."), 50) == 50
    with psycopg.connect(fresh_database_url) as conn:
        assert conn.execute("SELECT count(*) FROM ops.events").fetchone()[0] == 50
        assert conn.execute("SELECT count(*) FROM ops.bench_naive_events").fetchone()[0] == 50


def test_merge_keeps_the_earlier_figures_of_the_stages_not_run_now(tmp_path: Path) -> None:
    import json

    earlier = {
        "machine": {"date_utc": "2026-12-04 16:00 UTC", "load_average_start": [1, 1, 1]},
        "stages": [
            *_rows(),
            {"stage": "dbt_incremental", "scale": 1, "n": 100, "ours_s": 9.0},
            {"stage": "focus_pull", "scale": 1, "n": 2000, "ours_per_s": 90.0},
        ],
        "not_run": [{"stage": "mail at scale 1000", "reason": "above the cap"}],
        "scales_by_stage": {"mail": [1, 10, 100], "dbt": [1], "focus": [1]},
    }
    path = tmp_path / "report.json"
    path.write_text(json.dumps(earlier))
    rows, not_run, ran = report.merge_earlier(path, ["focus", "ml"])
    assert {r["stage"] for r in rows} == {"mail", "dbt_full_build", "dbt_incremental"}
    assert all(r["merged_from"] == "2026-12-04 16:00 UTC" for r in rows)
    assert not_run == earlier["not_run"] and ran == {"mail": [1, 10, 100], "dbt": [1]}
    with pytest.raises(SystemExit, match="cannot read it as a report"):
        report.merge_earlier(tmp_path / "missing.json", ["mail"])
    # a report that had merged a row from an earlier run passes that run's date on
    first = next(r for r in earlier["stages"] if r["stage"] == "mail")
    first["merged_from"] = "2026-12-01 09:00 UTC"
    path.write_text(json.dumps(earlier))
    rows, _, _ = report.merge_earlier(path, ["focus", "ml"])
    stamps = [r["merged_from"] for r in rows]
    assert stamps.count("2026-12-01 09:00 UTC") == 1
    assert stamps.count("2026-12-04 16:00 UTC") == len(rows) - 1


def test_run_measured_adds_the_trees_it_is_told_of(tmp_path: Path) -> None:
    # a 150 MB process that is not the command's child (a server it talks to, say)
    import subprocess

    server = subprocess.Popen(
        [sys.executable, "-c", "import time; b = b'x' * (150 * 2**20); time.sleep(30)"]
    )
    try:
        time.sleep(1.0)
        measured = report.run_measured(
            [sys.executable, "-c", "import time; time.sleep(0.5)"],
            {"PATH": "/usr/bin:/bin"},
            60,
            tmp_path / "log",
            also=lambda: [server.pid],
        )
    finally:
        server.kill()
        server.wait()
    assert measured.code == 0 and measured.peak_mb > 140


def _graph_result(scale: float, emails: int, wall: float, peak: float) -> dict:
    return {
        "scale": scale,
        "machine": {"date_utc": "2026-12-04 21:00 UTC"},
        "materialize": {"exit_code": 0, "wall_s": wall, "peak_mb": peak, "load_before": [2.0]},
        "inspect": {
            "database_bytes": 5 * 10**9,
            "rows": {"raw.emails": emails},
            "runs": [
                {
                    "steps": [
                        ["ml__email_predictions", 1500.0, "SUCCESS"],
                        ["raw_emails", 120.0, "SUCCESS"],
                    ]
                }
            ],  # fmt: skip
        },
        "home_bytes": {"qdrant": 9 * 10**8, "attachments": 2 * 10**9},
    }


def test_a_whole_graph_run_made_on_its_own_joins_the_report(tmp_path: Path) -> None:
    import json

    small, large = tmp_path / "graph-1.json", tmp_path / "graph-100.json"
    small.write_text(json.dumps(_graph_result(1, 2900, 300.0, 3000.0)))
    large.write_text(json.dumps(_graph_result(100, 290_000, 9000.0, 6000.0)))
    out = tmp_path / "out"
    argv = ["--stages", "none", "--graph-from", str(small), "--graph-from", str(large)]
    assert report.main([*argv, "--out", str(out)]) == 0
    written = json.loads((out / "report.json").read_text())
    rows = [r for r in written["stages"] if r["stage"] == "graph"]
    assert [(r["scale"], r["n"], r["ours_s"], r["warehouse_mb"]) for r in rows] == [
        (1, 2900, 300.0, 5000),
        (100, 290_000, 9000.0, 5000),
    ]
    fit = next(f for f in written["exponents"] if f["stage"] == "graph")
    assert fit["ours_time"] == pytest.approx(0.74, abs=0.01)  # 30x the time for 100x the mail
    text = (out / "report.md").read_text()
    assert "Whole graph" in text and "ml__email_predictions 25.0 min" in text
    bad = tmp_path / "bad.json"
    bad.write_text("{}")
    with pytest.raises(SystemExit):
        report.main(["--stages", "none", "--graph-from", str(bad), "--out", str(out)])


def test_the_scoring_workers_get_a_row_of_their_own_against_the_same_naive() -> None:
    row = {"stage": "score_emails", "scale": 1.0, "n": 4000, "workers": 2, "ours_per_s": 100.0,
           "workers_per_s": 150.0, "naive_per_s": 20.0, "workers_peak_mb": 2000.0,
           "naive_peak_mb": 700.0, "workers_startup_s": 5.0, "workers_per_s_after_start": 170.0,
           "workers_cpu_ms_per_email": 7.0, "ours_cpu_ms_per_email": 12.0}  # fmt: skip
    workers = script_stages.worker_row(row)
    assert workers["stage"] == "score_emails_workers"
    assert report.harness_stage(workers["stage"]) == "ml"
    assert workers["ratio"] == 7.5 and workers["ours_per_s"] == 150.0
    assert workers["ours_s"] == pytest.approx(4000 / 150, abs=0.01)
    assert workers["ours_peak_mb"] == 2000.0 and workers["naive_peak_mb"] == 700.0
    assert "2 one-thread worker processes" in workers["note"]

"""The launch form's ``paths`` stay inside the drop folder: the landing assets, materialised
with the real warehouse resource, refuse (into raw.rejects, never reading them) paths
outside the drop root, paths that climb out with ``..``, and paths through symbolic links.
"""

from __future__ import annotations

from pathlib import Path

import dagster as dg
import pytest

from orchestration.defs.mail.assets import raw_emails
from orchestration.defs.prelead.assets import raw_prelead
from orchestration.drops import LINK_REFUSED, confine
from orchestration.resources import WarehouseResource
from pebble.settings import get_settings
from tests.mail.conftest import make_message

SECRET = b"From: root\r\nSubject: not yours\r\n\r\nthe system's secret\r\n"


@pytest.fixture
def roots(warehouse, pebble_env, tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    mail, prelead = tmp_path / "drops" / "mail", tmp_path / "drops" / "prelead"
    mail.mkdir(parents=True)
    prelead.mkdir(parents=True)
    monkeypatch.setenv("PEBBLE_MAIL_DROP_DIR", str(mail))
    monkeypatch.setenv("PEBBLE_PRELEAD_DROP_DIR", str(prelead))
    get_settings.cache_clear()
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.eml").write_bytes(SECRET)
    (outside / "leads.csv").write_bytes(b"Firm Name,City\nStolen Ltd,Delhi\n")
    yield mail, prelead, outside, WarehouseResource(database_url=pebble_env)
    get_settings.cache_clear()


def _rejects(conn, source: str) -> dict[str, str]:
    return dict(
        conn.execute(
            "SELECT locator, reason FROM raw.rejects WHERE source = %s", (source,)
        ).fetchall()
    )


def test_mail_launch_form_paths_outside_the_drop_root_are_refused(roots, warehouse) -> None:
    mail, _, outside, resource = roots
    (mail / "ok.eml").write_bytes(make_message(message_id="<ok@x>"))
    (mail / "link.eml").symlink_to(outside / "secret.eml")
    (mail / "linked-dir").symlink_to(outside)
    given = [
        str(outside / "secret.eml"),  # plainly outside
        str(mail / ".." / ".." / "outside" / "secret.eml"),  # climbs out
        str(mail / "link.eml"),  # a link as the path itself
        str(mail / "linked-dir" / "secret.eml"),  # through a linked folder
        str(mail / "linked-dir"),  # the linked folder
        "ok.eml",  # relative to the drop root: fine
    ]
    result = dg.materialize(
        [raw_emails],
        run_config=dg.RunConfig(ops={"raw_emails": {"config": {"paths": given, "imap": False}}}),
        resources={"warehouse": resource},
    )
    assert result.success
    outside_reason = f"outside the drop folder {mail}"
    assert _rejects(warehouse, "mail") == {
        given[0]: outside_reason,
        given[1]: outside_reason,
        given[2]: LINK_REFUSED,
        given[3]: LINK_REFUSED,
        given[4]: LINK_REFUSED,
    }
    assert [r[0] for r in warehouse.execute("SELECT message_id FROM raw.emails")] == ["ok@x"]
    stored = warehouse.execute(
        "SELECT count(*) FROM raw.rejects WHERE payload IS NOT NULL OR payload_in_store"
    ).fetchone()[0]
    assert stored == 0  # not a byte of the outside file was read
    metadata = result.asset_materializations_for_node("raw_emails")[0].metadata
    assert metadata["total_rejected"].value == 5 and metadata["total_rows_added"].value == 1


def test_prelead_launch_form_paths_outside_the_drop_root_are_refused(roots, warehouse) -> None:
    _, prelead, outside, resource = roots
    (prelead / "leads.csv").symlink_to(outside / "leads.csv")
    given = [str(outside / "leads.csv"), str(prelead / "leads.csv")]
    result = dg.materialize(
        [raw_prelead],
        run_config=dg.RunConfig(ops={"raw_prelead": {"config": {"paths": given}}}),
        resources={"warehouse": resource},
    )
    assert result.success
    assert _rejects(warehouse, "prelead") == {
        given[0]: f"outside the drop folder {prelead}",
        given[1]: LINK_REFUSED,
    }
    assert warehouse.execute("SELECT count(*) FROM raw.prelead_batches").fetchone()[0] == 0


def test_confine_normalises_without_following_links(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "a").mkdir(parents=True)
    (root / "hop").symlink_to(tmp_path)
    assert confine("a/../a/x.eml", root) == (root / "a" / "x.eml", None)
    assert confine(".", root) == (root, None)
    assert confine("hop/../a", root) == (root / "a", None)  # lexical: never asks the link
    assert confine("hop/root/a", root) == (None, LINK_REFUSED)
    assert confine("/etc/passwd", root)[1] == f"outside the drop folder {root}"

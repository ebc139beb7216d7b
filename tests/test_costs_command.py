"""`groundwork costs show|export|import|import-table|history` against a real database."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import col, select
from typer.testing import CliRunner

from app import db, settings
from app.cli import cli
from app.costing import catalog
from app.db import make_engine, new_session
from models.audit import AuditEvent
from tests.conftest import fresh_database

PLAN = Path(__file__).parent / "data" / "somerville_2015_plan.csv"


@pytest.fixture(params=["spatialite", "postgis"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    url, remove = fresh_database(request.param, tmp_path)
    monkeypatch.setenv("GROUNDWORK_DATABASE_URL", url)
    settings.get_settings.cache_clear()
    db.get_engine.cache_clear()
    yield url
    db.get_engine().dispose()
    db.get_engine.cache_clear()
    settings.get_settings.cache_clear()
    remove()  # type: ignore[operator]


def run(*args: str):  # type: ignore[no-untyped-def]
    db.get_engine().dispose()
    return CliRunner().invoke(cli, list(args))


def pavement_keys(url: str) -> list[str]:
    engine = make_engine(url)
    with new_session(engine) as session:
        version = catalog.current_version(session=session)
        assert version is not None
        keys = [t.key for t in catalog.treatments_of(session=session, version=version) if t.layer_kind == "pavement"]
    engine.dispose()
    return keys


def test_show_export_import_and_history(database_url: str, tmp_path: Path) -> None:
    shown = run("costs", "show")
    assert shown.exit_code == 0, shown.output
    assert "Catalog version 1 (current)" in shown.output and "crack_seal" in shown.output

    exported = tmp_path / "catalog.csv"
    assert run("costs", "export", "-o", str(exported)).exit_code == 0
    assert exported.read_text().startswith("layer_kind,key,name,unit,unit_cost_dollars")

    imported = run("costs", "import-table", str(PLAN))
    assert imported.exit_code == 0, imported.output
    assert "Catalog version 2 is now current" in imported.output
    assert pavement_keys(database_url)[:2] == ["dn_local", "rm_local"]

    bad = tmp_path / "bad.csv"
    bad.write_text("layer_kind,key,name,unit,unit_cost_dollars\npavement,x,Fine,sq_yd,1\npavement,y,Bad,acres,1\n")
    refused = run("costs", "import", str(bad))
    assert refused.exit_code == 1
    assert "Row 3" in refused.output and "nothing changed" in refused.output
    history = run("costs", "history")
    assert "Consultant's pavement table" in history.output and "│ 3 " not in history.output  # nothing written
    assert run("costs", "export", "--version", "9").exit_code == 1


def test_markups_make_a_new_version_and_import_table_says_what_it_kept(database_url: str) -> None:
    assert run("costs", "show").exit_code == 0  # version 1: Groundwork's defaults
    changed = run("costs", "markups", "--design-pct", "12", "--escalation-pct", "3.5")
    assert changed.exit_code == 0, changed.output
    said = " ".join(changed.output.split())
    assert "Catalog version 2 is now current" in said
    assert "design & engineering: 15 % → 12 %" in said and "escalation (a year): 3 % → 3.5 %" in said
    assert "contingency: 20 % (kept)" in said
    engine = make_engine(database_url)
    with new_session(engine) as session:
        version = catalog.current_version(session=session)
        assert version is not None and (version.design_engineering_bps, version.contingency_bps,
                                        version.escalation_bps) == (1200, 2000, 350)
        entry = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.version_created")
                             .order_by(col(AuditEvent.id).desc())).first()
        assert entry is not None and entry.after["changes"]["design & engineering"] == {"before": 1500, "after": 1200}
    engine.dispose()

    for args, message in ((("--design-pct", "12"), "already has these markups"),
                          ((), "Give at least one markup"),
                          (("--contingency-pct", "-5"), "Contingency must be between 0 % and 100 %"),
                          (("--escalation-pct", "lots"), "--escalation-pct must be a percentage")):
        refused = run("costs", "markups", *args)
        assert refused.exit_code == 1 and message in " ".join(refused.output.split()), (args, refused.output)
    assert "│ 3 " not in run("costs", "history").output  # nothing written

    imported = run("costs", "import-table", str(PLAN))
    assert imported.exit_code == 0, imported.output
    said = " ".join(imported.output.split())
    assert "Catalog version 3 is now current" in said and "Kept from version 2" in said
    for kept in ("design & engineering: 12 %", "contingency: 20 %", "escalation (a year): 3.5 %", "base year:",
                 "lane width:", "default widths:", "sidewalk treatments:", "streetlight treatments:"):
        assert kept in said, kept


def test_by_names_the_staff_member_and_anyone_else_changes_nothing(database_url: str, tmp_path: Path) -> None:
    from app import accounts
    from models.accounts import Role
    from models.costs import CatalogVersion
    from tests.conftest import make_settings

    engine = make_engine(database_url)
    with new_session(engine) as session:
        for email, role in (("engineer@city.gov", Role.staff), ("resident@example.org", Role.resident)):
            accounts.create_user(session=session, settings=make_settings(database_url), email=email,
                                 password="a-good-password", role=role)
    engine.dispose()
    for who in ("resident@example.org", "nobody@city.gov"):  # refused before anything, the first version too
        for args in (("import-table", str(PLAN)), ("markups", "--design-pct", "12")):
            refused = run("costs", *args, "--by", who)
            assert refused.exit_code == 1, refused.output
            said = " ".join(refused.output.split())
            assert f"{who} is not an active staff account" in said and "Nothing was written" in said
    engine = make_engine(database_url)
    with new_session(engine) as session:
        assert session.exec(select(CatalogVersion)).all() == []
    engine.dispose()

    assert run("costs", "import-table", str(PLAN)).exit_code == 0  # without --by, as before
    signed = run("costs", "import", str(PLAN), "--note", "Resurvey rates", "--by", "Engineer@City.gov")
    assert signed.exit_code == 0, signed.output
    assert run("costs", "markups", "--design-pct", "12", "--by", "engineer@city.gov").exit_code == 0
    engine = make_engine(database_url)
    with new_session(engine) as session:
        engineer = accounts.find_by_email(session=session, email="engineer@city.gov")
        assert engineer is not None
        events = session.exec(select(AuditEvent).where(AuditEvent.action == "catalog.version_created")
                              .order_by(col(AuditEvent.id))).all()
        assert [event.actor_id for event in events] == [None, None, engineer.id, engineer.id]  # defaults, table
        versions = session.exec(select(CatalogVersion).order_by(col(CatalogVersion.number))).all()
        assert [v.created_by_id for v in versions] == [None, None, engineer.id, engineer.id]
    engine.dispose()

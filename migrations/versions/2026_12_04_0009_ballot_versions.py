"""The published ballot list is frozen by the database itself; amendments are new versions.

Triggers, the same rules on SpatiaLite and PostGIS (see docs/BALLOT_HASH.md, "The guard"):

- ``published_list`` and ``published_item`` rows are never updated or deleted;
- a proposal on a published list (any version's ``published_item``) cannot be deleted, and an
  update cannot change its title, state, estimate, override, geometry, category, scheduled year,
  group or alternate — with one exception, the amendment: its state may change only to agree with
  the newest version (``on_ballot`` when that version lists it, ``not_selected`` when it does not).
  An amendment writes the new ``published_list`` row and its items first, in the same transaction,
  then moves the proposals; anything else that moves a published proposal's state is refused;
- that proposal's ``proposal_asset`` rows cannot be inserted or deleted, nor their ``proposal_id``,
  ``layer`` or ``source_key`` changed; ``asset_id`` and ``missing`` may change (an import points a
  link at the re-imported row of the same asset, or marks it missing).

A later migration that rebuilds one of these tables on SQLite (``batch_alter_table`` copies the
table and drops the old one) drops its triggers with it: such a migration must re-create them.
Adding a column with ``op.add_column`` keeps them.

Revision ID: 0009_ballot_versions
Revises: 0008_asset_identity
Create Date: 2026-12-04 10:30:00
"""

from collections.abc import Sequence

from alembic import op

revision: str = '0009_ballot_versions'
down_revision: str | None = '0008_asset_identity'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

REFUSED = "groundwork: the published ballot list cannot change"
ON_A_LIST = "EXISTS (SELECT 1 FROM published_item WHERE published_item.proposal_id = {ref})"
IN_NEWEST = ("EXISTS (SELECT 1 FROM published_item WHERE published_item.proposal_id = OLD.id AND "
             "published_item.published_list_id = (SELECT id FROM published_list ORDER BY version DESC LIMIT 1))")
GUARDED = ["id", "title", "category_key", "scheduled_year", "group_id", "alternate_of_id", "estimate",
           "estimate_catalog_version_id", "estimate_total_cents", "estimate_low_cents", "estimate_high_cents",
           "override_cents", "override_reason"]
LINK_GUARDED = ["proposal_id", "layer", "source_key"]

SQLITE_TRIGGERS = {
    "ballot_list_no_update": f"BEFORE UPDATE ON published_list BEGIN SELECT RAISE(ABORT, '{REFUSED}: "
                             "published_list rows are never updated'); END",
    "ballot_list_no_delete": f"BEFORE DELETE ON published_list BEGIN SELECT RAISE(ABORT, '{REFUSED}: "
                             "published_list rows are never deleted'); END",
    "ballot_item_no_update": f"BEFORE UPDATE ON published_item BEGIN SELECT RAISE(ABORT, '{REFUSED}: "
                             "published_item rows are never updated'); END",
    "ballot_item_no_delete": f"BEFORE DELETE ON published_item BEGIN SELECT RAISE(ABORT, '{REFUSED}: "
                             "published_item rows are never deleted'); END",
    "ballot_proposal_no_delete": f"BEFORE DELETE ON proposal WHEN {ON_A_LIST.format(ref='OLD.id')} "
                                 f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: a proposal on it cannot be deleted'); END",
    "ballot_proposal_no_update": (
        f"BEFORE UPDATE ON proposal WHEN {ON_A_LIST.format(ref='OLD.id')} BEGIN "
        f"SELECT RAISE(ABORT, '{REFUSED}: a proposal on it cannot be changed') WHERE "
        + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in [*GUARDED, "geom"])
        + f" OR (NEW.state IS NOT OLD.state AND NOT ((NEW.state = 'on_ballot' AND {IN_NEWEST}) OR "
          f"(NEW.state = 'not_selected' AND NOT {IN_NEWEST}))); END"),
    "ballot_asset_no_insert": f"BEFORE INSERT ON proposal_asset WHEN {ON_A_LIST.format(ref='NEW.proposal_id')} "
                              f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: a proposal on it cannot gain assets'); END",
    "ballot_asset_no_delete": f"BEFORE DELETE ON proposal_asset WHEN {ON_A_LIST.format(ref='OLD.proposal_id')} "
                              f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: a proposal on it cannot lose assets'); END",
    "ballot_asset_no_update": (
        f"BEFORE UPDATE ON proposal_asset WHEN ({ON_A_LIST.format(ref='OLD.proposal_id')} AND ("
        + " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in LINK_GUARDED)
        + f")) OR (NEW.proposal_id IS NOT OLD.proposal_id AND {ON_A_LIST.format(ref='NEW.proposal_id')}) "
          f"BEGIN SELECT RAISE(ABORT, '{REFUSED}: a proposal on it keeps its assets'); END"),
}

PG_FUNCTIONS = {
    "ballot_refuse_change": f"""
        BEGIN
          RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
            MESSAGE = '{REFUSED}: ' || TG_TABLE_NAME || ' rows are never ' || lower(TG_OP) || 'd';
        END""",
    "ballot_guard_proposal": f"""
        DECLARE in_newest boolean;
        BEGIN
          IF NOT {ON_A_LIST.format(ref='OLD.id')} THEN
            RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
          END IF;
          IF TG_OP = 'DELETE' THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
              MESSAGE = '{REFUSED}: proposal ' || OLD.id || ' is on it and cannot be deleted';
          END IF;
          IF {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in GUARDED)}
             OR ST_AsEWKB(NEW.geom) IS DISTINCT FROM ST_AsEWKB(OLD.geom) THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
              MESSAGE = '{REFUSED}: proposal ' || OLD.id || ' is on it and cannot be changed';
          END IF;
          IF NEW.state IS DISTINCT FROM OLD.state THEN
            in_newest := {IN_NEWEST};
            IF NOT ((NEW.state = 'on_ballot' AND in_newest) OR (NEW.state = 'not_selected' AND NOT in_newest)) THEN
              RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
                MESSAGE = '{REFUSED}: proposal ' || OLD.id || ' is on it; its state changes only by an amendment';
            END IF;
          END IF;
          RETURN NEW;
        END""",
    "ballot_guard_asset": f"""
        BEGIN
          IF (TG_OP IN ('UPDATE', 'DELETE') AND {ON_A_LIST.format(ref='OLD.proposal_id')}
              AND (TG_OP = 'DELETE' OR {" OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in LINK_GUARDED)}))
             OR (TG_OP = 'INSERT' AND {ON_A_LIST.format(ref='NEW.proposal_id')})
             OR (TG_OP = 'UPDATE' AND NEW.proposal_id IS DISTINCT FROM OLD.proposal_id
                 AND {ON_A_LIST.format(ref='NEW.proposal_id')}) THEN
            RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation',
              MESSAGE = '{REFUSED}: a proposal on it keeps its assets';
          END IF;
          RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
        END""",
}
PG_TRIGGERS = {  # name: (table, events, function)
    "ballot_list_frozen": ("published_list", "UPDATE OR DELETE", "ballot_refuse_change"),
    "ballot_item_frozen": ("published_item", "UPDATE OR DELETE", "ballot_refuse_change"),
    "ballot_proposal_frozen": ("proposal", "UPDATE OR DELETE", "ballot_guard_proposal"),
    "ballot_asset_frozen": ("proposal_asset", "INSERT OR UPDATE OR DELETE", "ballot_guard_asset"),
}


def upgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name, body in SQLITE_TRIGGERS.items():
            op.execute(f"CREATE TRIGGER {name} {body}")
        return
    run = op.get_bind().exec_driver_sql
    for name, body in PG_FUNCTIONS.items():
        run(f"CREATE FUNCTION {name}() RETURNS trigger LANGUAGE plpgsql AS $guard${body}$guard$")
    for name, (table, events, function) in PG_TRIGGERS.items():
        run(f"CREATE TRIGGER {name} BEFORE {events} ON {table} FOR EACH ROW EXECUTE FUNCTION {function}()")


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        for name in SQLITE_TRIGGERS:
            op.execute(f"DROP TRIGGER IF EXISTS {name}")
        return
    for name, (table, _events, _function) in PG_TRIGGERS.items():
        op.execute(f"DROP TRIGGER IF EXISTS {name} ON {table}")
    for name in PG_FUNCTIONS:
        op.execute(f"DROP FUNCTION IF EXISTS {name}()")

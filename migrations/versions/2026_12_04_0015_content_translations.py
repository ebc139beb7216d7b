"""Content translations: Spanish names for program categories, cost treatments and districts.

Each of the three tables gains an optional ``name_es`` beside its required English ``name``
(Spanish viewers see it, English when it is empty: ``app.i18n.localized``). Existing databases get
the Spanish names Groundwork ships — the demo program's categories and the default catalog's
treatments — on rows that still have the shipped English name (a renamed row is left for staff),
and the demo city's districts ("District 3" → "Distrito 3") when the districts came from the demo.
Catalog versions stay immutable in what they price: a name in another language is not a price.
Downgrading drops the columns.

Revision ID: 0015_content_translations
Revises: 0014_import_jobs
Create Date: 2026-12-04 12:00:00
"""

import re
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0015_content_translations'
down_revision: str | None = '0014_import_jobs'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TABLES = ("program_category", "cost_treatment", "district")

# key → (shipped English name, Spanish name); literal here so the migration never changes with the code
CATEGORIES = {
    "pavement": ("Pavement & bridges", "Pavimento y puentes"),
    "sidewalks": ("Sidewalks & trails", "Aceras y senderos"),
    "streetlights": ("Streetlights", "Alumbrado público"),
    "corridors": ("Corridors", "Corredores"),
    "transit": ("Transit", "Transporte público"),
}
TREATMENTS = {
    "do_nothing": ("Do nothing", "Sin intervención"),
    "crack_seal": ("Crack seal", "Sellado de grietas"),
    "patching": ("Pavement patching", "Bacheo"),
    "mill_overlay_2in": ('2" mill & overlay (local)', 'Fresado y repavimentación de 2" (local)'),
    "mill_overlay_3in_arterial": ('3" mill & overlay (arterial)', 'Fresado y repavimentación de 3" (arterial)'),
    "mill_overlay_3in_collector": ('3" mill & overlay (collector)', 'Fresado y repavimentación de 3" (colectora)'),
    "reconstruct": ("Reclaim / reconstruct (local)", "Reconstrucción (local)"),
    "reconstruct_arterial": ("Reclaim / reconstruct (arterial)", "Reconstrucción (arterial)"),
    "reconstruct_collector": ("Reclaim / reconstruct (collector)", "Reconstrucción (colectora)"),
    "new_sidewalk": ("New 5 ft concrete sidewalk (gap)", "Acera nueva de concreto de 5 pies (tramo faltante)"),
    "sidewalk_repair": ("Sidewalk panel replacement", "Reemplazo de losas de acera"),
    "curb_ramp": ("ADA curb ramp (reconstruct or new)", "Rampa de acera ADA (reconstruida o nueva)"),
    "led_retrofit": ("LED fixture retrofit", "Cambio a luminaria LED"),
    "new_pole": ("New pole and LED fixture", "Poste nuevo con luminaria LED"),
}
DEMO_DISTRICT = re.compile(r"^District (\d+)$")


def upgrade() -> None:
    for table in TABLES:
        op.add_column(table, sa.Column("name_es", sa.String(200), nullable=True))
    bind = op.get_bind()
    for table, names in (("program_category", CATEGORIES), ("cost_treatment", TREATMENTS)):
        rows = sa.table(table, sa.column("key", sa.String), sa.column("name", sa.String),
                        sa.column("name_es", sa.String))
        for key, (english, spanish) in names.items():
            bind.execute(sa.update(rows).where(rows.c.key == key, rows.c.name == english, rows.c.name_es.is_(None))
                         .values(name_es=spanish))
    layer = sa.table("layer", sa.column("kind", sa.String), sa.column("source", sa.String))
    demo = bind.execute(sa.select(layer.c.source).where(layer.c.kind == "district")).scalar()
    if demo and demo.startswith("demo:"):
        district = sa.table("district", sa.column("id", sa.Integer), sa.column("name", sa.String),
                            sa.column("name_es", sa.String))
        for d_id, name in bind.execute(sa.select(district.c.id, district.c.name)).all():
            match = DEMO_DISTRICT.match(name or "")
            if match:
                bind.execute(sa.update(district).where(district.c.id == d_id)
                             .values(name_es=f"Distrito {match.group(1)}"))


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_column(table, "name_es")

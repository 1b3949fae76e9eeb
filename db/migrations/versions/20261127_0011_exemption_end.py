"""exemption end: the last day of each exemption kept with the record, and indexed

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-27 09:00:00

/kedaluwarsa and the daily expiry check find ending exemptions by this index instead of
reading every record with a dated period. Records before this revision get the day their
period gives (a date, or a duration counted from the classification date).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BATCH = 1000

records = sa.table(
    "records",
    sa.column("id", sa.Integer),
    sa.column("period_kind", sa.String),
    sa.column("period_until", sa.Date),
    sa.column("period_amount", sa.Integer),
    sa.column("period_unit", sa.String),
    sa.column("classified_date", sa.Date),
    sa.column("ends_on", sa.Date),
)


def upgrade() -> None:
    from sop.model import DurationUnit, ExemptionPeriod, PeriodKind

    with op.batch_alter_table("records", schema=None) as batch_op:
        batch_op.add_column(sa.Column("ends_on", sa.Date(), nullable=True))
        batch_op.create_index(batch_op.f("ix_records_ends_on"), ["ends_on"], unique=False)

    bind = op.get_bind()
    dated = sa.select(
        records.c.id,
        records.c.period_kind,
        records.c.period_until,
        records.c.period_amount,
        records.c.period_unit,
        records.c.classified_date,
    ).where(records.c.period_kind.in_([PeriodKind.UNTIL_DATE.value, PeriodKind.DURATION.value]))
    rows = bind.execute(dated.order_by(records.c.id)).all()
    fill = (
        sa.update(records)
        .where(records.c.id == sa.bindparam("record_id"))
        .values(ends_on=sa.bindparam("day"))
    )
    for start in range(0, len(rows), BATCH):
        values = []
        for record_id, kind, until, amount, unit, classified in rows[start : start + BATCH]:
            period = ExemptionPeriod(
                PeriodKind(kind),
                until=until,
                amount=amount,
                unit=DurationUnit(unit) if unit else None,
            )
            values.append({"record_id": record_id, "day": period.end_date(classified)})
        if values:
            bind.execute(fill, values)


def downgrade() -> None:
    # Plain ALTER TABLE (SQLite 3.35+ drops columns itself): a batch copy of the table
    # would trip over the rows of other tables that refer to it.
    op.drop_index("ix_records_ends_on", table_name="records")
    op.drop_column("records", "ends_on")

"""Counters per unit, periods, held responses, close requests and snapshots.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # integer (4 bytes), not bigint: a 40-item questionnaire's vector is ~1.4 kB and stays
    # inline in the row; as bigint it would pass the 2 kB TOAST threshold and every
    # update would compress and write it out of line (measured: about twice the time).
    op.add_column("unit_counts", sa.Column("counters", ARRAY(sa.Integer), nullable=True))
    # Element-wise sum of two counter vectors (null = nothing yet); unnest pads the shorter.
    op.execute(
        """
        CREATE FUNCTION aggregation_add_counters(a integer[], b integer[]) RETURNS integer[]
        LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
            SELECT CASE
                WHEN a IS NULL THEN b
                WHEN b IS NULL THEN a
                ELSE ARRAY(
                    SELECT coalesce(x, 0) + coalesce(y, 0)
                    FROM unnest(a, b) WITH ORDINALITY AS t(x, y, n)
                    ORDER BY n
                )
            END
        $$
        """
    )
    op.create_table(
        "periods",
        sa.Column("period_id", sa.String, primary_key=True),
        sa.Column("k", sa.Integer, nullable=False),
        sa.Column("sensitive_k", sa.Integer, nullable=False),
        sa.Column("questionnaire", JSONB, nullable=False),
        sa.Column("units", JSONB, nullable=False),
    )
    op.create_table(
        "held_responses",
        sa.Column("response_id", sa.String, primary_key=True),
        sa.Column("period_id", sa.String, nullable=False, index=True),
        sa.Column("unit_id", sa.String, nullable=False),
        sa.Column("answers", JSONB, nullable=False),
    )
    op.create_table(
        "close_requests",
        sa.Column("period_id", sa.String, primary_key=True),
        sa.Column("totals", JSONB, nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("blocked", sa.String, nullable=True),
    )
    op.create_table(
        "snapshots",
        sa.Column("period_id", sa.String, primary_key=True),
        sa.Column("unit_count", sa.Integer, nullable=False),
        sa.Column("published_count", sa.Integer, nullable=False),
        sa.Column("checksum", sa.String, nullable=False),
        sa.Column("finalized_at", sa.DateTime(timezone=True), nullable=False),
    )
    op.create_table(
        "snapshot_units",
        sa.Column("period_id", sa.String, primary_key=True),
        sa.Column("unit_id", sa.String, primary_key=True),
        sa.Column("published", sa.Boolean, nullable=False),
        sa.Column("value", sa.LargeBinary, nullable=False),
    )


def downgrade() -> None:
    raise NotImplementedError("forward-only migrations")

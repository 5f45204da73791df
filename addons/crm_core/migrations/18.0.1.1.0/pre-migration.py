"""Churn risk became per company (company-dependent jsonb columns).

The old single scores cannot be told apart by company: drop them, and the daily
churn cron scores every customer again for each company it invoiced.
"""

from odoo.tools import SQL

CHURN_COLUMNS = ("churn_score", "churn_reasons", "churn_at_risk", "churn_date")


def migrate(cr, version):
    cr.execute(
        """
        SELECT column_name FROM information_schema.columns
         WHERE table_name = 'res_partner' AND column_name IN %s
           AND data_type != 'jsonb'
        """,
        [CHURN_COLUMNS],
    )
    for (column,) in cr.fetchall():
        cr.execute(
            SQL("ALTER TABLE res_partner DROP COLUMN %s", SQL.identifier(column))
        )

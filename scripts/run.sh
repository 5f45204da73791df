#!/usr/bin/env bash
# make run: prepare, create the demo database once, serve it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
prepare_all

DB="${CRM_DB:-crm_demo}"
prepare_demo_db "$DB"
say "Odoo is at http://localhost:8069 (admin/admin), database $DB. Ctrl-C stops it."
exec "$CRM_VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$"

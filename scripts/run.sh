#!/usr/bin/env bash
# make run: prepare, create the demo database once, serve it.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
prepare_all

DB="${CRM_DB:-crm_demo}"
if ! db_exists "$DB"; then
    say "creating the demo database $DB with $(our_addons) and demo data (a few minutes)"
    odoo_bin -d "$DB" -i "$(our_addons)" --stop-after-init --log-level=warn
else
    # Installs what an interrupted first run missed and brings the database up to
    # the code (new fields, views, demo records).
    say "updating $(our_addons) in $DB"
    odoo_bin -d "$DB" -i "$(our_addons)" -u "$(our_addons)" --stop-after-init --log-level=warn
fi
say "Odoo is at http://localhost:8069 (admin/admin), database $DB. Ctrl-C stops it."
exec "$CRM_VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$"

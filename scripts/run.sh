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
    # Installs what an interrupted first run or a new addon left out, and brings
    # the installed ones up to the code. Installed addons get -u only: -i would
    # reload their demo records, posted invoices included.
    missing="$(addons_in_state "$DB" missing)"
    installed="$(addons_in_state "$DB" installed)"
    if [ -n "$missing" ]; then
        say "installing $missing in $DB"
        odoo_bin -d "$DB" -i "$missing" --stop-after-init --log-level=warn
    fi
    if [ -n "$installed" ]; then
        say "updating $installed in $DB"
        odoo_bin -d "$DB" -u "$installed" --stop-after-init --log-level=warn
    fi
fi
say "Odoo is at http://localhost:8069 (admin/admin), database $DB. Ctrl-C stops it."
exec "$CRM_VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$"

#!/usr/bin/env bash
# Multi-worker load test in a throwaway database: bench/load.sh [requests]  (default: 600)
# Odoo in prefork (2 HTTP workers + a cron worker) on 127.0.0.1:8469, database crm_load
# with our five addons and no demo data, neutralized (crons off, mail to a closed port).
#   LOAD_KEEP_DB=1       reuse crm_load when it already has the five addons installed
#   LOAD_USERS=8         simulated users (web form, support agent, front desk, clerk in turn)
#   LOAD_MAX_SECONDS=600 bound of the driver (start, seed, traffic, settle, checks, stop)
# Report: table on stdout, .local/logs/load-report.json; Odoo's log .local/logs/load-odoo.log.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/prepare.sh"
prepare_all
DB=crm_load
ADDONS="$(our_addons)"
psql_db() { PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d "$1" -tAc "$2"; }

if [ "${LOAD_KEEP_DB:-0}" = 1 ] && db_exists "$DB" && [ -z "$(addons_in_state "$DB" missing)" ]; then
    say "reusing load-test database $DB (LOAD_KEEP_DB=1)"
else
    say "fresh load-test database $DB ($ADDONS, no demo data)"
    psql_db postgres "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)" >/dev/null
    odoo_bin -d "$DB" -i "$ADDONS" --without-demo=all --stop-after-init --log-level=warn
fi
if [ "$(psql_db "$DB" "SELECT value FROM ir_config_parameter WHERE key = 'database.is_neutralized'")" != true ]; then
    say "neutralizing $DB: crons off, mail servers replaced, IAP tokens disabled"
    "$CRM_VENV/bin/python" "$ODOO_SRC/odoo-bin" neutralize -c "$ODOO_CONF" -d "$DB" --log-level=warn
fi
exec "$CRM_VENV/bin/python" "$PROJECT_DIR/bench/load_multiworker.py" \
    --conf "$ODOO_CONF" --db "$DB" --odoo-src "$ODOO_SRC" \
    --requests "${1:-600}" --users "${LOAD_USERS:-8}" --max-seconds "${LOAD_MAX_SECONDS:-600}"

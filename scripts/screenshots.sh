#!/usr/bin/env bash
# make screenshots: the README's pictures of each addon's main screens, from the demo database
# (created or updated like `make run` does), served on a spare port while Chromium takes them.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
prepare_all
prepare_browser

DB="${CRM_DB:-crm_demo}"
PORT="${CRM_SCREENSHOT_PORT:-8569}"
OUT="$PROJECT_DIR/docs/screenshots"
prepare_demo_db "$DB"

say "serving $DB on 127.0.0.1:$PORT for the screenshots"
"$CRM_VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" -d "$DB" --db-filter="^$DB\$" \
    --http-interface=127.0.0.1 --http-port="$PORT" --max-cron-threads=0 --log-level=warn \
    >"$PROJECT_DIR/.local/logs/screenshots-odoo.log" 2>&1 &
odoo_pid=$!
trap 'kill "$odoo_pid" 2>/dev/null || true; wait "$odoo_pid" 2>/dev/null || true' EXIT
for _ in $(seq 120); do
    curl -sf "http://127.0.0.1:$PORT/web/health" >/dev/null && break
    kill -0 "$odoo_pid" 2>/dev/null || die "Odoo stopped: see .local/logs/screenshots-odoo.log"
    sleep 1
done
"$CRM_VENV/bin/python" "$PROJECT_DIR/scripts/screenshots.py" "http://127.0.0.1:$PORT" "$DB" "$OUT"
say "screenshots in $OUT"

#!/usr/bin/env bash
# Benchmarks in a throwaway database: bench/run.sh [N ...]  (default: 10000)
# BENCH_SCRIPT=bench_audit.py bench/run.sh 10000 measures the audit trail instead;
# BENCH_ADDONS=crm_marketing BENCH_SCRIPT=bench_segment.py ... installs another addon first.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../scripts/prepare.sh"
prepare_all
DB="${CRM_BENCH_DB:-crm_bench}"
ADDONS="${BENCH_ADDONS:-crm_core}"
say "fresh benchmark database $DB ($ADDONS, no demo data)"
PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
odoo_bin -d "$DB" -i "$ADDONS" --without-demo=all --stop-after-init --log-level=warn
PYTHONPATH="$ODOO_SRC" "$CRM_VENV/bin/python" "$PROJECT_DIR/bench/${BENCH_SCRIPT:-bench_crm.py}" "$ODOO_CONF" "$DB" "${@:-10000}"

#!/usr/bin/env bash
# make test: a fresh database with all our addons installed and their tests run (failing, as the
# OCA's CI does, on any ERROR or unexpected WARNING in the log), then pytest-odoo over tests/.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
prepare_all
prepare_browser

DB="${CRM_TEST_DB:-crm_test}"
ADDONS="$(our_addons)"
[ -n "$ADDONS" ] || die "no addon found under addons/"
# Only our tests, not those of every module we depend on: /crm_core,/crm_support,...
TAGS=$(sed 's#[^,]*#/&#g' <<<"$ADDONS")
LOG="$PROJECT_DIR/.local/logs/odoo-test.log"
PYTEST_LOG="$PROJECT_DIR/.local/logs/pytest.log"

say "fresh test database $DB"
PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d postgres -qc "DROP DATABASE IF EXISTS \"$DB\" WITH (FORCE)"
rm -rf "$PROJECT_DIR/.local/data/filestore/$DB"

say "installing $ADDONS with their tests ($TAGS); log in $LOG"
set +e
odoo_bin -d "$DB" -i "$ADDONS" --test-enable --test-tags "$TAGS" --stop-after-init \
    --log-level=info --http-port=8169 2>&1 | tee "$LOG" | grep -E --line-buffered \
    ' (ERROR|CRITICAL|WARNING) |odoo.tests.result|Starting .*\.\.\.|Ran [0-9]+ test'
odoo_rc=${PIPESTATUS[0]}
set -e

# Odoo's result of log $1 in odoo_passed/odoo_failed/odoo_total, its bad lines in log_problems.
check_odoo_log() {
    local log="$1" result bad_lines warnings skipped allow
    # Odoo's own count: "N failed, M error(s) of T tests when loading database ..."
    result=$(grep -E "odoo.tests.result: [0-9]+ failed, [0-9]+ error\(s\) of [0-9]+ tests" "$log" | tail -1 || true)
    if [[ "$result" =~ ([0-9]+)\ failed,\ ([0-9]+)\ error\(s\)\ of\ ([0-9]+)\ tests ]]; then
        odoo_failed=$((BASH_REMATCH[1] + BASH_REMATCH[2]))
        odoo_total=${BASH_REMATCH[3]}
    else
        odoo_failed=0
        odoo_total=$(grep -cE "odoo\.addons\.[a-z_]+\.tests\.[a-z_0-9]+: Starting " "$log" || true)
    fi
    odoo_passed=$((odoo_total - odoo_failed))

    # Log lines that fail the run: any ERROR/CRITICAL, any WARNING not allow-listed.
    local log_line='^[0-9]{4}-[0-9]{2}-[0-9]{2} [0-9:,]+ [0-9]+ '
    allow=$(grep -vE '^\s*(#|$)' "$PROJECT_DIR/.ci/log-allowlist.txt" | paste -sd'|' || true)
    bad_lines=$(grep -E "$log_line(ERROR|CRITICAL) " "$log" || true)
    warnings=$(grep -E "$log_line""WARNING " "$log" || true)
    if [ -n "$allow" ] && [ -n "$warnings" ]; then
        warnings=$(grep -vE "$allow" <<<"$warnings" || true)
    fi
    # A skipped test did not run: Odoo skips browser tests when Chromium cannot start.
    skipped=$(grep -E "$log_line""INFO [^ ]+ odoo\.addons\.[a-z_0-9.]+: skipped " "$log" || true)
    if [ -n "$skipped" ]; then
        bad_lines=$(printf '%s\n%s' "$bad_lines" "$skipped")
    fi
    log_problems=0
    if [ -n "$bad_lines$warnings" ]; then
        log_problems=$(printf '%s\n%s\n' "$bad_lines" "$warnings" | grep -c . || true)
        say "the Odoo log $log has $log_problems error or unexpected warning line(s):"
        printf '%s\n%s\n' "$bad_lines" "$warnings" | grep . | cut -c1-300 | head -40
    fi
}

check_odoo_log "$LOG"
main_passed=$odoo_passed main_failed=$odoo_failed main_total=$odoo_total main_problems=$log_problems

# The same batches with OCA's queue_job installed: their chunks become jobs. A database
# of its own (no demo data), running only the tests tagged crm_queue_job.
QDB="${DB}_queue"
QLOG="$PROJECT_DIR/.local/logs/odoo-test-queue.log"
say "fresh database $QDB with queue_job: the batches' queue_job path; log in $QLOG"
PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d postgres -qc "DROP DATABASE IF EXISTS \"$QDB\" WITH (FORCE)"
rm -rf "$PROJECT_DIR/.local/data/filestore/$QDB"
set +e
odoo_bin -d "$QDB" -i "queue_job,$ADDONS" --without-demo=all --test-enable --test-tags crm_queue_job \
    --stop-after-init --log-level=info --http-port=8169 2>&1 | tee "$QLOG" | grep -E --line-buffered \
    ' (ERROR|CRITICAL|WARNING) |odoo.tests.result|Ran [0-9]+ test'
queue_rc=${PIPESTATUS[0]}
set -e
check_odoo_log "$QLOG"
[ "$queue_rc" -ne 0 ] && [ "$odoo_rc" -eq 0 ] && odoo_rc=$queue_rc
[ "$odoo_total" -eq 0 ] && { say "no queue_job test ran"; odoo_failed=$((odoo_failed + 1)); }
odoo_passed=$((main_passed + odoo_passed))
odoo_failed=$((main_failed + odoo_failed))
odoo_total=$((main_total + odoo_total))
log_problems=$((main_problems + log_problems))

say "pytest-odoo over tests/"
set +e
PYTHONPATH="$ODOO_SRC${PYTHONPATH:+:$PYTHONPATH}" "$CRM_VENV/bin/pytest" "$PROJECT_DIR/tests" \
    --odoo-config="$ODOO_CONF" --odoo-database="$DB" --odoo-http -p no:cacheprovider -q \
    2>&1 | tee "$PYTEST_LOG"
pytest_rc=${PIPESTATUS[0]}
set -e
summary=$(grep -E "^=*\s*([0-9]+ (passed|failed|errors?|skipped)[, ]*)+" "$PYTEST_LOG" | tail -1 || true)
count() { [[ "$summary" =~ ([0-9]+)\ $1 ]] && echo "${BASH_REMATCH[1]}" || echo 0; }
py_passed=$(count passed)
py_failed=$(( $(count failed) + $(count error) ))
[ "$pytest_rc" -eq 5 ] && pytest_rc=0  # no test collected in tests/ is not a failure

passed=$((odoo_passed + py_passed))
failed=$((odoo_failed + py_failed))
status=0
if [ "$odoo_rc" -ne 0 ] || [ "$odoo_failed" -ne 0 ] || [ "$odoo_total" -eq 0 ]; then
    say "Odoo tests failed (exit $odoo_rc, $odoo_failed failed of $odoo_total)"; status=1
fi
[ "$log_problems" -ne 0 ] && { say "log check failed"; status=1; }
[ "$pytest_rc" -ne 0 ] && { say "pytest failed (exit $pytest_rc)"; status=1; }
[ "$status" -ne 0 ] && [ "$failed" -eq 0 ] && failed=1  # a log or exit failure counts as one
echo "summary: $passed passed, $failed failed"
exit $status

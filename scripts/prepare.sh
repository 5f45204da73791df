#!/usr/bin/env bash
# Prepares what `make run` and `make test` need, idempotently, saying what it does:
# PostgreSQL, the Odoo 18.0 source, a virtualenv with requirements.txt, .local/odoo.conf.
# Source it (it exports the variables below) or run it on its own.
set -euo pipefail

PROJECT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ODOO_SRC="${ODOO_SRC:-/opt/odoo18}"
CRM_VENV="${CRM_VENV:-${HOME:-$(getent passwd "$(id -u)" | cut -d: -f6)}/.venvs/crm-odoo18}"
PYTHON="${PYTHON:-python3}"
ODOO_CONF="$PROJECT_DIR/.local/odoo.conf"
export PROJECT_DIR ODOO_SRC CRM_VENV ODOO_CONF

say() { printf '[prepare] %s\n' "$*"; }
die() { printf '[prepare] %s\n' "$*" >&2; exit 1; }
is_root() { [ "$(id -u)" -eq 0 ]; }

apt_install() {
    # Installs the Debian packages that are missing, when we may.
    local missing=()
    for pkg in "$@"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
    done
    [ ${#missing[@]} -eq 0 ] && return 0
    if is_root && command -v apt-get >/dev/null; then
        say "installing Debian packages: ${missing[*]}"
        apt-get update -qq >/dev/null
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
    else
        die "missing system packages: ${missing[*]}. Install them (sudo apt-get install ${missing[*]}) and run again."
    fi
}

prepare_system_packages() {
    command -v dpkg-query >/dev/null || return 0  # not Debian: the README lists what to install
    # python-ldap builds against these; psycopg2 against libpq.
    apt_install libldap2-dev libsasl2-dev libpq-dev git
}

# Browser tests (Odoo's tours) need Chromium and the websocket-client module; without either
# Odoo skips them silently, so `make test` prepares both and fails when they are missing.
prepare_browser() {
    local bin
    for bin in chromium chromium-browser google-chrome google-chrome-stable; do
        command -v "$bin" >/dev/null && break
        bin=""
    done
    if [ -z "$bin" ]; then
        if command -v dpkg-query >/dev/null; then
            apt_install chromium
        else
            die "no Chromium for the browser tests: install chromium (or Google Chrome) and run again."
        fi
    fi
    "$CRM_VENV/bin/python" -c "import websocket" 2>/dev/null ||
        die "websocket-client is missing from $CRM_VENV: remove $CRM_VENV/.requirements.sha256 and run again."
}

prepare_postgresql() {
    if ! command -v pg_lsclusters >/dev/null && ! command -v pg_ctl >/dev/null; then
        if command -v dpkg-query >/dev/null; then
            apt_install postgresql
        else
            die "PostgreSQL is not installed: install PostgreSQL 15, start it, and run again."
        fi
    fi
    if command -v pg_lsclusters >/dev/null; then
        if [ -z "$(pg_lsclusters -h 2>/dev/null)" ]; then
            is_root || die "no PostgreSQL cluster: create one (sudo pg_createcluster 15 main --start) and run again."
            local version
            version=$(ls /usr/lib/postgresql | sort -n | tail -1)
            say "creating PostgreSQL cluster $version/main"
            pg_createcluster "$version" main >/dev/null
        fi
        local version cluster status
        read -r version cluster _ status _ < <(pg_lsclusters -h | head -1)
        if [ "$status" != "online" ]; then
            say "starting PostgreSQL $version/$cluster"
            if is_root; then
                pg_ctlcluster "$version" "$cluster" start
            else
                die "PostgreSQL $version/$cluster is down: start it (sudo pg_ctlcluster $version $cluster start) and run again."
            fi
        fi
    fi
    local tries=0
    until pg_isready -q -h 127.0.0.1 -p 5432; do
        tries=$((tries + 1))
        [ $tries -gt 30 ] && die "PostgreSQL does not answer on 127.0.0.1:5432; check its log."
        sleep 1
    done
    if PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d postgres -tAc "select 1" >/dev/null 2>&1; then
        return 0
    fi
    is_root || die "create the PostgreSQL role odoo (sudo -u postgres psql -c \"CREATE ROLE odoo LOGIN CREATEDB PASSWORD 'odoo'\") and run again."
    say "creating PostgreSQL role odoo"
    runuser -u postgres -- psql -q -c "DO \$\$BEGIN
        IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'odoo')
        THEN CREATE ROLE odoo LOGIN CREATEDB PASSWORD 'odoo';
        ELSE ALTER ROLE odoo LOGIN CREATEDB PASSWORD 'odoo'; END IF; END\$\$;"
}

prepare_odoo_source() {
    [ -f "$ODOO_SRC/odoo-bin" ] && return 0
    say "no Odoo source at $ODOO_SRC: cloning the official 18.0 branch"
    if ! git clone --quiet --depth 1 --branch 18.0 https://github.com/odoo/odoo.git "$ODOO_SRC"; then
        die "could not clone Odoo: put an Odoo 18.0 source tree at $ODOO_SRC (or set ODOO_SRC) and run again."
    fi
}

prepare_virtualenv() {
    local stamp="$CRM_VENV/.requirements.sha256" wanted
    wanted=$(cat "$PROJECT_DIR"/requirements*.txt "$PROJECT_DIR/.ci/build-constraints.txt" | sha256sum | cut -d' ' -f1)
    if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$wanted" ]; then
        return 0
    fi
    if [ ! -x "$CRM_VENV/bin/python" ]; then
        say "creating the virtualenv $CRM_VENV"
        "$PYTHON" -m venv "$CRM_VENV"
    fi
    say "installing requirements into $CRM_VENV (a few minutes the first time)"
    "$CRM_VENV/bin/pip" install -q --upgrade pip wheel
    # cbor2 5.4.2 builds only with setuptools<81, so that constraint must reach its isolated
    # build. pip 25.3+ takes it through --build-constraint (pip 26 dropped PIP_CONSTRAINT for
    # builds); older pips only through PIP_CONSTRAINT, which also reaches their build envs.
    local build_constraints="$PROJECT_DIR/.ci/build-constraints.txt" pip_args=()
    if "$CRM_VENV/bin/pip" install --help | grep -q -- '--build-constraint'; then
        pip_args=(--build-constraint "$build_constraints")
    else
        export PIP_CONSTRAINT="$build_constraints"
    fi
    "$CRM_VENV/bin/pip" install -q "${pip_args[@]}" \
        -r "$PROJECT_DIR/requirements.txt" -r "$PROJECT_DIR/requirements-lint.txt"
    "$CRM_VENV/bin/pip" install -q --no-deps -r "$PROJECT_DIR/requirements-odoo-addons.txt"
    unset PIP_CONSTRAINT
    echo "$wanted" >"$stamp"
}

prepare_config() {
    mkdir -p "$PROJECT_DIR/.local/data" "$PROJECT_DIR/.local/logs"
    sed -e "s#\${ODOO_SRC}#$ODOO_SRC#g" -e "s#\${PROJECT_DIR}#$PROJECT_DIR#g" \
        "$PROJECT_DIR/odoo.conf" >"$ODOO_CONF.tmp"
    if ! cmp -s "$ODOO_CONF.tmp" "$ODOO_CONF"; then
        say "writing $ODOO_CONF"
        mv "$ODOO_CONF.tmp" "$ODOO_CONF"
    else
        rm -f "$ODOO_CONF.tmp"
    fi
}

# Our addons: every folder of addons/ with a manifest, comma-separated.
our_addons() {
    local dir names=()
    for dir in "$PROJECT_DIR"/addons/*/__manifest__.py; do
        [ -f "$dir" ] && names+=("$(basename "$(dirname "$dir")")")
    done
    (IFS=,; echo "${names[*]}")
}

odoo_bin() {
    "$CRM_VENV/bin/python" "$ODOO_SRC/odoo-bin" -c "$ODOO_CONF" "$@"
}

db_exists() {
    PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d postgres -tAc \
        "SELECT 1 FROM pg_database WHERE datname = '$1'" | grep -q 1
}

# Our addons by state in database $1: "installed" lists the installed ones,
# anything else the others (comma-separated, for -i / -u).
addons_in_state() {
    local db="$1" want="$2" name state names=()
    for name in $(our_addons | tr ',' ' '); do
        state=$(PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d "$db" -tAc \
            "SELECT state FROM ir_module_module WHERE name = '$name'" 2>/dev/null || true)
        if [ "$want" = installed ] && [ "$state" = installed ]; then names+=("$name"); fi
        if [ "$want" != installed ] && [ "$state" != installed ]; then names+=("$name"); fi
    done
    (IFS=,; echo "${names[*]}")
}

# The demo database $1: created once with our addons and their demo data, then kept up to date.
prepare_demo_db() {
    local db="$1" missing installed
    if ! db_exists "$db"; then
        say "creating the demo database $db with $(our_addons) and demo data (a few minutes)"
        odoo_bin -d "$db" -i "$(our_addons)" --stop-after-init --log-level=warn
        return
    fi
    # Installs what an interrupted first run or a new addon left out, and brings
    # the installed ones up to the code. Installed addons get -u only: -i would
    # reload their demo records, posted invoices included.
    missing="$(addons_in_state "$db" missing)"
    installed="$(addons_in_state "$db" installed)"
    if [ -n "$missing" ]; then
        say "installing $missing in $db"
        odoo_bin -d "$db" -i "$missing" --stop-after-init --log-level=warn
    fi
    if [ -n "$installed" ]; then
        say "updating $installed in $db"
        odoo_bin -d "$db" -u "$installed" --stop-after-init --log-level=warn
    fi
}

prepare_all() {
    prepare_system_packages
    prepare_postgresql
    prepare_odoo_source
    prepare_virtualenv
    prepare_config
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
    prepare_all
    say "ready: Odoo at $ODOO_SRC, virtualenv $CRM_VENV, configuration $ODOO_CONF"
fi

#!/usr/bin/env bash
# make lint: pre-commit with local hooks (ruff, pylint-odoo, XML and YAML checks) from the virtualenv.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/prepare.sh"
prepare_system_packages
prepare_virtualenv
cd "$PROJECT_DIR"
PATH="$CRM_VENV/bin:$PATH" PRE_COMMIT_HOME="$PROJECT_DIR/.local/pre-commit" \
    pre-commit run --all-files --show-diff-on-failure --color=never

# The two commands of the README, plus lint. Each prepares what is missing first.
.PHONY: run test lint setup clean-db screenshots

run:
	@bash scripts/run.sh

test:
	@bash scripts/test.sh

lint:
	@bash scripts/lint.sh

screenshots:
	@bash scripts/screenshots.sh

setup:
	@bash scripts/prepare.sh

clean-db:
	@bash -c 'source scripts/prepare.sh && for db in $${CRM_DB:-crm_demo} $${CRM_TEST_DB:-crm_test}; do \
		PGPASSWORD=odoo psql -h 127.0.0.1 -U odoo -d postgres -qc "DROP DATABASE IF EXISTS \"$$db\" WITH (FORCE)"; \
		rm -rf .local/data/filestore/$$db; echo "dropped $$db"; done'

"""Audit trail overhead: writing and reading N records with and without auditing.

Run through ``BENCH_SCRIPT=bench_audit.py bench/run.sh 10000``. The same N
partners are written (one field) and read (three fields, as a CRM user) twice
in the same run: once with no audit rule, once with a rule logging writes and
reads. Prints seconds and queries for each, and the overhead.
"""

import os
import sys

import odoo
from odoo import SUPERUSER_ID, Command, api
from odoo.tools import config

sys.path.insert(0, os.path.dirname(__file__))
from bench_crm import QUIET, measure, print_table


def main(conf, db, sizes):
    config.parse_config(["-c", conf, "-d", db, "--log-level=warn"])
    registry = odoo.modules.registry.Registry(db)
    rows = []
    for n in sizes:
        with registry.cursor() as cr:
            env = api.Environment(cr, SUPERUSER_ID, {})
            reader = (
                env["res.users"]
                .with_context(**QUIET)
                .create(
                    {
                        "name": "Bench reader",
                        "login": f"bench_reader_{n}",
                        "groups_id": [
                            Command.link(env.ref("crm_core.group_crm_manager").id)
                        ],
                    }
                )
            )
            partners = (
                env["res.partner"]
                .with_context(**QUIET)
                .create([{"name": f"Audited {i}"} for i in range(n)])
            )
            as_reader = partners.with_user(reader)
            rule = env["crm.audit.rule"].create(
                {
                    "model_id": env["ir.model"]._get_id("res.partner"),
                    "log_read": True,
                    "active": False,
                }
            )
            for audited in (False, True):
                rule.active = audited
                suffix = "audited" if audited else "not audited"
                rows.append(
                    measure(
                        env,
                        f"write 1 field, {suffix}",
                        n,
                        lambda a=audited, p=partners: p.write(
                            {"comment": f"audited {a}"}
                        ),
                    )
                )
                rows.append(
                    measure(
                        env,
                        f"read 3 fields as a user, {suffix}",
                        n,
                        lambda r=as_reader: r.read(["name", "email", "comment"]),
                    )
                )
            entries = env["crm.audit.log"].search_count([("model", "=", "res.partner")])
            print(f"  {entries} audit entries for {n} records", flush=True)
            cr.rollback()

    print_table(rows, digits=4)


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2], [int(n) for n in sys.argv[3:]])

from odoo import SUPERUSER_ID, api, sql_db
from odoo.tests import tagged

from .test_journey_common import BODY, JourneyCommon

QUIET = {
    "tracking_disable": True,
    "mail_create_nolog": True,
    "mail_create_nosubscribe": True,
    "mail_notrack": True,
}


@tagged("post_install", "-at_install")
class TestJourneyConcurrency(JourneyCommon):
    """Two workers run the journey cron at the same time, each in its own
    transaction: every step runs once per participant, one email each."""

    def _committed_journey(self, db, size):
        """A running journey with ``size`` participants due for an email, committed
        so that other transactions see it."""
        with sql_db.db_connect(db).cursor() as setup_cr:
            setup_cr.execute("SET LOCAL lock_timeout = '10s'")  # fail, never hang
            env = api.Environment(setup_cr, SUPERUSER_ID, QUIET)
            partners = env["res.partner"].create(
                [
                    {"name": f"Racer {i}", "email": f"racer{i}@race.example.com"}
                    for i in range(size)
                ]
            )
            purpose = env.ref("crm_core.consent_purpose_marketing_email")
            consents = env["crm.consent"].create(
                [
                    {"partner_id": partner.id, "purpose_id": purpose.id}
                    for partner in partners
                ]
            )
            journey = env["crm.marketing.journey"].create(
                {"name": "Race", "domain": repr([("id", "in", partners.ids)])}
            )
            step = env["crm.marketing.journey.step"].create(
                {"journey_id": journey.id, "name": "Race mail"}
            )
            step.mailing_id.write({"body_arch": BODY, "body_html": BODY})
            journey.state = "running"
            journey._enrol()
            ids = {
                "partners": partners.ids,
                "consents": consents.ids,
                "journey": journey.id,
                "campaign": journey.campaign_id.id,
                "mailing": step.mailing_id.id,
                "source": step.mailing_id.source_id.id,
                "activities": env["crm.marketing.journey.activity"]
                .search([("journey_id", "=", journey.id)])
                .ids,
            }
            setup_cr.commit()
        return ids

    def _cleanup(self, db, ids):
        with sql_db.db_connect(db).cursor() as cleanup_cr:
            env = api.Environment(cleanup_cr, SUPERUSER_ID, QUIET)
            env["mail.mail"].search([("mailing_id", "=", ids["mailing"])]).unlink()
            env["crm.marketing.journey"].browse(ids["journey"]).unlink()
            env["mailing.mailing"].browse(ids["mailing"]).unlink()
            env["utm.campaign"].browse(ids["campaign"]).unlink()
            env["utm.source"].browse(ids["source"]).unlink()
            # The consent ledger refuses deletion through the ORM, by design.
            cleanup_cr.execute(
                "DELETE FROM crm_consent WHERE id IN %s", [tuple(ids["consents"])]
            )
            env["res.partner"].browse(ids["partners"]).unlink()
            cleanup_cr.commit()

    def test_two_workers_lock_distinct_activities(self):
        db = self.env.cr.dbname
        ids = self._committed_journey(db, 6)
        try:
            with (
                sql_db.db_connect(db).cursor() as cr1,
                sql_db.db_connect(db).cursor() as cr2,
            ):
                cr2.execute("SET LOCAL lock_timeout = '10s'")
                worker1 = api.Environment(cr1, SUPERUSER_ID, {})
                worker2 = api.Environment(cr2, SUPERUSER_ID, {})
                Activity1 = worker1["crm.marketing.journey.activity"]
                Activity2 = worker2["crm.marketing.journey.activity"]
                first = Activity1._lock_due(limit=4)
                second = Activity2._lock_due()
                self.assertEqual(len(first), 4)
                self.assertEqual(
                    set(first.ids) | set(second.ids), set(ids["activities"])
                )
                self.assertFalse(set(first.ids) & set(second.ids))
                cr1.rollback()
                cr2.rollback()
        finally:
            self._cleanup(db, ids)

    def test_two_workers_run_each_step_once(self):
        db = self.env.cr.dbname
        ids = self._committed_journey(db, 5)
        try:
            with (
                sql_db.db_connect(db).cursor() as cr1,
                sql_db.db_connect(db).cursor() as cr2,
            ):
                cr2.execute("SET LOCAL lock_timeout = '10s'")
                Activity1 = api.Environment(cr1, SUPERUSER_ID, {})[
                    "crm.marketing.journey.activity"
                ]
                Activity2 = api.Environment(cr2, SUPERUSER_ID, {})[
                    "crm.marketing.journey.activity"
                ]
                # Both workers take the same due activities while the first holds them.
                self.assertEqual(Activity1._process_due(), 5)
                self.assertEqual(Activity2._process_due(), 0)
                cr1.commit()
                cr2.commit()
            with sql_db.db_connect(db).cursor() as cr3:
                env = api.Environment(cr3, SUPERUSER_ID, {})
                # A third run after the first committed finds nothing left.
                self.assertEqual(
                    env["crm.marketing.journey.activity"]._process_due(), 0
                )
                activities = env["crm.marketing.journey.activity"].browse(
                    ids["activities"]
                )
                self.assertEqual(set(activities.mapped("state")), {"done"})
                self.assertEqual(len(activities.trace_id), 5)
                traces = env["mailing.trace"].search(
                    [("mass_mailing_id", "=", ids["mailing"])]
                )
                self.assertEqual(
                    sorted(traces.mapped("res_id")), sorted(ids["partners"])
                )
                self.assertEqual(activities.trace_id, traces)
                # One email each: five distinct mails, none cancelled as a duplicate.
                self.assertEqual(len(set(traces.mapped("mail_mail_id_int"))), 5)
                self.assertFalse(traces.filtered(lambda t: t.trace_status == "cancel"))
                cr3.rollback()
        finally:
            self._cleanup(db, ids)

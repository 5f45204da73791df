from odoo.tests import new_test_user

from .common import CrmMarketingCommon

BODY = "<p>Hello from the journey</p>"


class JourneyCommon(CrmMarketingCommon):
    """People who agreed to marketing emails, and helpers to build and run
    journeys as the marketer."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # Lead journeys are built by a marketer who also works in the CRM.
        cls.sales_marketer = new_test_user(
            cls.env,
            "sales_marketer",
            groups="crm_marketing.group_marketing_user,crm_core.group_crm_user",
            company_id=cls.company.id,
        )
        cls.people = cls.env["res.partner"].create(
            [
                {
                    "name": f"Person {i}",
                    "email": f"person{i}@journey.example.com",
                    "mobile": f"+3247712340{i}",
                }
                for i in range(4)
            ]
        )
        cls._grant(cls.people, cls.purpose_email)
        # Emails wait in the queue, as they do in the cron's batches of 1000 (Odoo
        # sends batches of up to 100 at once): tests say when they are delivered.
        cls.env["ir.config_parameter"].set_param("mail.mail.force.send.limit", 0)
        cls.Journey = cls.env["crm.marketing.journey"]
        cls.Step = cls.env["crm.marketing.journey.step"]
        cls.Participant = cls.env["crm.marketing.journey.participant"]
        cls.Activity = cls.env["crm.marketing.journey.activity"]
        cls.tags = cls.env["res.partner.category"].create(
            [{"name": name} for name in ("A", "B", "C", "D", "E", "F", "G")]
        )

    def _journey(self, user=None, **vals):
        vals.setdefault("name", "Welcome")
        vals.setdefault("domain", repr([("id", "in", self.people.ids)]))
        return self.Journey.with_user(user or self.marketer).create(vals)

    def _step(self, journey, **vals):
        vals.setdefault("name", vals.get("action_type", "email").capitalize())
        step = self.Step.with_user(journey.env.user).create(
            {"journey_id": journey.id, **vals}
        )
        if step.action_type == "email":
            step.mailing_id.write({"body_arch": BODY, "body_html": BODY})
        return step

    def _run(self, rounds=6):
        """What the cron does, as many times as there is something due."""
        for _round in range(rounds):
            if not self.Journey._cron_process():
                break

    def _participants(self, journey, records=None):
        domain = [("journey_id", "=", journey.id), ("is_test", "=", False)]
        if records is not None:
            domain.append(("res_id", "in", records.ids))
        return self.Participant.search(domain, order="res_id")

    def _traces(self, step, records=None):
        domain = [("mass_mailing_id", "=", step.mailing_id.id)]
        if records is not None:
            domain.append(("res_id", "in", records.ids))
        return self.env["mailing.trace"].search(domain)

    def _tagged(self, tag, records=None):
        return (records or self.people).filtered(lambda p: tag in p.category_id)

from psycopg2 import IntegrityError

from odoo.exceptions import ValidationError
from odoo.tests import Form, tagged
from odoo.tools import mute_logger

from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestCrmInteraction(CrmCoreCommon):
    def test_log_interaction_from_partner(self):
        action = self.contact_1.with_user(self.salesman_a).action_log_interaction()
        self.assertEqual(action["res_model"], "crm.interaction")
        self.assertEqual(action["target"], "new")

        interaction_form = Form(
            self.env["crm.interaction"]
            .with_user(self.salesman_a)
            .with_context(action["context"])
        )
        interaction_form.name = "Called about the renewal"
        interaction_form.channel = "call"
        interaction_form.duration = 0.5
        interaction_form.outcome = "follow_up"
        interaction = interaction_form.save()

        self.assertEqual(interaction.partner_id, self.contact_1)
        self.assertEqual(interaction.commercial_partner_id, self.customer)
        self.assertEqual(interaction.user_id, self.salesman_a)
        self.assertEqual(interaction.team_id, self.team_a)
        self.assertEqual(interaction.company_id, self.company)
        self.assertEqual(
            self.customer.with_user(self.salesman_a).customer_interaction_count, 1
        )

    def test_log_interaction_from_lead_then_attach_customer(self):
        lead = self.env["crm.lead"].create(
            {
                "name": "Web visitor",
                "user_id": self.salesman_a.id,
                "team_id": self.team_a.id,
            }
        )
        action = lead.with_user(self.salesman_a).action_log_interaction()
        interaction_form = Form(
            self.env["crm.interaction"]
            .with_user(self.salesman_a)
            .with_context(action["context"])
        )
        interaction_form.name = "Chat on the website"
        interaction_form.channel = "chat"
        interaction_form.direction = "inbound"
        interaction = interaction_form.save()
        self.assertEqual(interaction.lead_id, lead)
        self.assertFalse(interaction.partner_id)
        self.assertEqual(interaction.team_id, self.team_a)
        self.assertEqual(lead.interaction_count, 1)

        # Once the lead gets its customer, the interaction shows on the customer.
        lead.partner_id = self.contact_2
        self.assertEqual(interaction.partner_id, self.contact_2)
        self.assertEqual(self.customer.customer_interaction_count, 1)

    def test_lead_deletion_removes_only_orphan_interactions(self):
        lead = self.env["crm.lead"].create({"name": "Short-lived lead"})
        orphan, kept = self.env["crm.interaction"].create(
            [
                {"name": "Lead only", "lead_id": lead.id},
                {
                    "name": "Lead and contact",
                    "lead_id": lead.id,
                    "partner_id": self.contact_1.id,
                },
            ]
        )
        lead.unlink()
        self.assertFalse(orphan.exists())
        self.assertTrue(kept.exists())
        self.assertFalse(kept.lead_id)

    def test_lead_view_action_opens_its_timeline(self):
        lead = self.env["crm.lead"].create(
            {"name": "Lead", "partner_id": self.contact_1.id}
        )
        action = lead.action_view_interactions()
        self.assertEqual(action["domain"], [("lead_id", "=", lead.id)])
        self.assertEqual(action["context"]["default_partner_id"], self.contact_1.id)

    def test_negative_duration_refused(self):
        interaction = self.env["crm.interaction"].create(
            {"name": "Call", "partner_id": self.contact_1.id, "duration": 1}
        )
        with (
            self.assertRaisesRegex(ValidationError, "cannot be negative"),
            self.cr.savepoint(),
        ):
            interaction.duration = -1
        interaction.invalidate_recordset()
        self.assertEqual(interaction.duration, 1)

    def test_interaction_needs_contact_or_lead(self):
        with self.assertRaisesRegex(ValidationError, "Choose the contact or the lead"):
            self.env["crm.interaction"].create({"name": "About nobody"})

    @mute_logger("odoo.sql_db")
    def test_message_logged_once(self):
        message = self.contact_1.message_post(
            body="Hello", message_type="comment", subtype_xmlid="mail.mt_comment"
        )
        interaction = self.env["crm.interaction"].search(
            [("message_id", "=", message.id)]
        )
        with self.assertRaises(IntegrityError), self.cr.savepoint():
            interaction.copy()

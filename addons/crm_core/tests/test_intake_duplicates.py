from odoo.tests import tagged

from .common import CrmCoreCommon


@tagged("post_install", "-at_install")
class TestIntakeDuplicates(CrmCoreCommon):
    def test_new_leads_point_to_open_leads_with_same_email_phone_or_company(self):
        Lead = self.env["crm.lead"]
        by_email, by_phone, by_company, by_name, _won, unrelated = Lead.create(
            [
                {"name": "Email", "email_from": "Carol <carol@newco.example.com>"},
                {"name": "Phone", "phone": "+32 475 11 22 33"},
                {"name": "Company", "partner_id": self.contact_1.id},
                {"name": "Name", "partner_name": "Initech"},
                {
                    "name": "Won",
                    "email_from": "dave@won.example.com",
                    "probability": 100,
                },
                {"name": "Other", "email_from": "zed@else.example.com"},
            ]
        )
        email, phone, company, name, after_won = Lead.create(
            [
                {"name": "Again", "email_from": "CAROL@newco.example.com"},
                {"name": "Again", "phone": "+32475112233"},
                {"name": "Again", "partner_id": self.contact_2.id},
                {"name": "Again", "partner_name": "INITECH"},
                {"name": "Again", "email_from": "dave@won.example.com"},
            ]
        )
        self.assertEqual(email.duplicate_candidate_ids, by_email)
        self.assertEqual(phone.duplicate_candidate_ids, by_phone)
        self.assertEqual(company.duplicate_candidate_ids, by_company)
        self.assertEqual(name.duplicate_candidate_ids, by_name)
        self.assertFalse(after_won.duplicate_candidate_ids, "won leads are history")
        self.assertFalse(unrelated.duplicate_candidate_ids)

        # Two copies in one import point to each other; merging suggests both.
        first, second = Lead.create(
            [
                {"name": "Import 1", "email_from": "twin@example.com"},
                {"name": "Import 2", "email_from": "twin@example.com"},
            ]
        )
        self.assertEqual(first.duplicate_candidate_ids, second)
        self.assertEqual(second.duplicate_candidate_ids, first)
        action = second.action_merge_duplicates()
        self.assertEqual(action["res_model"], "crm.merge.opportunity")
        wizard = (
            self.env["crm.merge.opportunity"].with_context(action["context"]).create({})
        )
        self.assertEqual(wizard.opportunity_ids, first | second)

    def test_duplicate_check_is_one_query_for_any_batch(self):
        Lead = self.env["crm.lead"].with_context(crm_skip_assignment=True)
        queries = []
        for size in (2, 5, 50):  # the first batch warms the caches
            leads = Lead.create(
                [
                    {"name": f"L{i}", "email_from": f"l{i}@x.example.com"}
                    for i in range(size)
                ]
            )
            self.env.flush_all()
            start = self.cr.sql_log_count
            leads._flag_intake_duplicates()
            queries.append(self.cr.sql_log_count - start)
        self.assertEqual(queries[1], queries[2], queries)

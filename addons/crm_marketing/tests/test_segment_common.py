from datetime import timedelta

from odoo import Command, fields

from .common import CrmMarketingCommon

# Ten customers with a known invoice history in the test company:
# (days since the last invoice, invoices, untaxed amount of each invoice).
# Invoices are 40 days apart, the last one first.
HISTORY = {
    "c0": (400, 1, 100),
    "c1": (300, 1, 200),
    "c2": (250, 2, 2500),
    "c3": (200, 1, 300),
    "c4": (150, 2, 300),
    "c5": (120, 3, 1400),
    "c6": (60, 1, 400),
    # 9,600 invoiced, less a 5,000 credit note dated yesterday: net 4,600.
    "c7": (30, 3, 3200),
    "c8": (10, 4, 2250),
    "c9": (5, 2, 350),
}
# Scores and cells worked out by hand (see test_segment_rfm): equal invoice
# counts share the score of the first of them.
EXPECTED = {
    "c0": ("111", "lost", "lapsed"),
    "c1": ("111", "lost", "active"),
    "c2": ("235", "at_risk", "active"),
    "c3": ("212", "hibernating", "active"),
    "c4": ("333", "need_attention", "at_risk"),
    "c5": ("344", "loyal", "active"),
    "c6": ("412", "potential_loyalist", "new"),
    "c7": ("444", "champions", "active"),
    "c8": ("555", "champions", "active"),
    "c9": ("533", "loyal", "new"),
}


class SegmentCommon(CrmMarketingCommon):
    """Ten tagged customers of the test company with the invoice history above,
    a prospect with an open opportunity, and invoices elsewhere that must not
    count. Shared by the test_segment* modules."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.today = fields.Date.today()
        cls.tag = cls.env["res.partner.category"].create({"name": "Segment test"})
        cls.customers = {
            key: cls.env["res.partner"].create(
                {
                    "name": f"Customer {key.upper()}",
                    "is_company": True,
                    "email": f"{key}@customers.example.com",
                    "category_id": [Command.link(cls.tag.id)],
                }
            )
            for key in HISTORY
        }
        for key, (days, count, amount) in HISTORY.items():
            for rank in range(count):
                cls._create_customer_invoice(
                    cls.customers[key],
                    amount,
                    invoice_date=cls.today - timedelta(days=days + 40 * rank),
                )
        cls._create_customer_invoice(
            cls.customers["c7"],
            5000,
            move_type="out_refund",
            invoice_date=cls.today - timedelta(days=1),
        )
        # Not posted: does not count.
        cls._create_customer_invoice(
            cls.customers["c1"], 50000, invoice_date=cls.today, post=False
        )
        # Another company's invoices count there only.
        cls.other_company_customer = cls.env["res.partner"].create(
            {"name": "Elsewhere Ltd", "is_company": True}
        )
        for partner in (cls.customers["c0"], cls.other_company_customer):
            cls._create_customer_invoice(
                partner, 99000, invoice_date=cls.today, company=cls.other_company
            )
        # crm_core's churn flag for this company (c0 is lapsed all the same), and
        # for the other company only (c9 stays new here).
        cls.env["res.partner"].browse(
            [cls.customers["c4"].id, cls.customers["c0"].id]
        ).with_company(cls.company).sudo().churn_at_risk = True
        cls.customers["c9"].with_company(cls.other_company).sudo().churn_at_risk = True

        # A prospect with an open opportunity and no invoice: lifecycle "lead".
        cls.prospect = cls.env["res.partner"].create(
            {
                "name": "Prospect Inc",
                "is_company": True,
                "email": "hello@prospect.example.com",
                "category_id": [Command.link(cls.tag.id)],
            }
        )
        cls.prospect_contact = cls.env["res.partner"].create(
            {"name": "Paula Prospect", "parent_id": cls.prospect.id}
        )
        cls.opportunity = cls.env["crm.lead"].create(
            {
                "name": "Prospect's first order",
                "type": "opportunity",
                "partner_id": cls.prospect_contact.id,
                "stage_id": cls.stage_new.id,
                "company_id": cls.company.id,
            }
        )
        # Won already, or in another company: not an open lead here.
        cls.won_prospect = cls.env["res.partner"].create(
            {
                "name": "Won Prospect",
                "is_company": True,
                "category_id": [Command.link(cls.tag.id)],
            }
        )
        cls.env["crm.lead"].create(
            [
                {
                    "name": "Signed",
                    "type": "opportunity",
                    "partner_id": cls.won_prospect.id,
                    "stage_id": cls.stage_won.id,
                    "company_id": cls.company.id,
                },
                {
                    "name": "Other company's deal",
                    "type": "opportunity",
                    "partner_id": cls.won_prospect.id,
                    "stage_id": cls.stage_new.id,
                    "company_id": cls.other_company.id,
                },
            ]
        )
        cls.criteria = cls.env["crm.marketing.segment.criterion"].search([])

    @classmethod
    def _criterion(cls, kind, *codes):
        return cls.criteria.filtered(lambda c: c.kind == kind and c.code in codes)

    def _segment(self, user=None, **values):
        """A customer segment limited to the tagged test customers."""
        values.setdefault("name", "Test segment")
        values.setdefault("domain", repr([("category_id", "in", self.tag.ids)]))
        return (
            self.env["crm.marketing.segment"]
            .with_user(user or self.marketer)
            .create(values)
        )

    def _keys(self, partners):
        """The HISTORY keys of ``partners`` (others by name), sorted."""
        names = {partner.id: key for key, partner in self.customers.items()}
        return sorted(names.get(partner.id, partner.name) for partner in partners)

    def _members(self, segment):
        return self.env[segment.target_model].search(segment._member_domain())

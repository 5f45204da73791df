from odoo.tests import new_test_user

from odoo.addons.crm_core.tests.common import CrmCoreCommon


class CrmMarketingCommon(CrmCoreCommon):
    """Marketing users with the lowest rights that should work, a salesperson who
    must be refused, and the customers and invoices of the crm_core test base."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id += cls.env.ref("crm_marketing.group_marketing_manager")
        cls.marketer = new_test_user(
            cls.env,
            "marketer",
            groups="crm_marketing.group_marketing_user",
            company_id=cls.company.id,
        )
        cls.marketing_manager = new_test_user(
            cls.env,
            "marketing_manager",
            groups="crm_marketing.group_marketing_manager",
            company_id=cls.company.id,
        )
        cls.purpose_email = cls.env.ref("crm_core.consent_purpose_marketing_email")
        cls.purpose_sms = cls.env.ref("crm_core.consent_purpose_sms")

    @classmethod
    def _grant(cls, partners, purpose, channel="all"):
        """Record a granted consent for ``partners`` (as the system would)."""
        return cls.env["crm.consent"].create(
            [
                {
                    "partner_id": partner.id,
                    "purpose_id": purpose.id,
                    "channel": channel,
                    "state": "granted",
                    "legal_basis": "consent",
                    "source": "in_person",
                }
                for partner in partners
            ]
        )

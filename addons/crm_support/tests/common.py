from datetime import datetime

from odoo import Command
from odoo.tests import new_test_user

from odoo.addons.crm_core.tests.common import CrmCoreCommon


class CrmSupportCommon(CrmCoreCommon):
    """A support team working 8:00-12:00 and 13:00-17:00 UTC, Monday to Friday,
    three agents with skills, and SLA policies."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.env.user.groups_id += cls.env.ref("crm_support.group_support_manager")
        cls.calendar = cls.env["resource.calendar"].create(
            {
                "name": "Support hours (UTC)",
                "tz": "UTC",
                "attendance_ids": [
                    Command.create(
                        {
                            "name": f"{day} {start}",
                            "dayofweek": str(day),
                            "hour_from": start,
                            "hour_to": end,
                            "day_period": "morning" if start < 12 else "afternoon",
                        }
                    )
                    for day in range(5)
                    for start, end in ((8, 12), (13, 17))
                ],
            }
        )
        agent_groups = "crm_support.group_support_user"
        cls.agent_1 = new_test_user(cls.env, "agent_1", groups=agent_groups)
        cls.agent_2 = new_test_user(cls.env, "agent_2", groups=agent_groups)
        cls.agent_3 = new_test_user(cls.env, "agent_3", groups=agent_groups)
        cls.leader = new_test_user(
            cls.env, "support_leader", groups="crm_support.group_support_manager"
        )
        cls.Skill = cls.env["crm.support.skill"]
        cls.printers = cls.Skill.create({"name": "Printers (test)"})
        cls.billing = cls.Skill.create({"name": "Billing (test)"})
        cls.env["crm.support.user.skill"].create(
            [
                {"user_id": cls.agent_1.id, "skill_id": cls.printers.id, "level": "1"},
                {"user_id": cls.agent_2.id, "skill_id": cls.printers.id, "level": "3"},
                {"user_id": cls.agent_3.id, "skill_id": cls.billing.id, "level": "2"},
            ]
        )
        cls.team = cls.env["crm.support.team"].create(
            {
                "name": "Desk",
                "sequence": 1,
                "alias_name": "desk-test",
                "leader_id": cls.leader.id,
                "member_ids": [
                    Command.set((cls.agent_1 | cls.agent_2 | cls.agent_3).ids)
                ],
                "resource_calendar_id": cls.calendar.id,
            }
        )
        cls.hardware = cls.env["crm.ticket.category"].create(
            {"name": "Hardware (test)", "skill_ids": [Command.set(cls.printers.ids)]}
        )
        cls.invoicing = cls.env["crm.ticket.category"].create(
            {"name": "Invoicing (test)", "skill_ids": [Command.set(cls.billing.ids)]}
        )
        # Only the policies of the tests apply.
        cls.env["crm.sla.policy"].search([]).active = False
        cls.standard_sla = cls.env["crm.sla.policy"].create(
            {
                "name": "Standard (test)",
                "sequence": 50,
                "team_ids": [Command.set(cls.team.ids)],
                "response_hours": 4,
                "resolution_hours": 16,
                "warn_hours": 1,
            }
        )
        cls.stage_new = cls.env.ref("crm_support.stage_new")
        cls.stage_progress = cls.env.ref("crm_support.stage_in_progress")
        cls.stage_waiting = cls.env.ref("crm_support.stage_waiting")
        cls.stage_solved = cls.env.ref("crm_support.stage_solved")
        cls.Ticket = cls.env["crm.ticket"]

    @classmethod
    def _ticket(cls, **vals):
        return cls.Ticket.create(
            {
                "name": "Printer jam",
                "team_id": cls.team.id,
                "partner_id": cls.contact_1.id,
                **vals,
            }
        )


def utc(*args):
    return datetime(*args)

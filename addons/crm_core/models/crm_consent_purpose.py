from odoo import fields, models


class CrmConsentPurpose(models.Model):
    """Why we contact or process a person: marketing email, SMS, profiling..."""

    _name = "crm.consent.purpose"
    _description = "Consent Purpose"
    _order = "sequence, id"

    name = fields.Char(required=True, translate=True)
    code = fields.Char(
        required=True, help="Technical name other addons use to check consent."
    )
    sequence = fields.Integer(default=10)
    active = fields.Boolean(default=True)
    description = fields.Text(translate=True)
    policy = fields.Selection(
        [
            ("opt_in", "Opt-in: only with consent"),
            ("opt_out", "Opt-out: unless withdrawn"),
        ],
        required=True,
        default="opt_in",
        help="Opt-in (GDPR) needs a granted consent; opt-out (CCPA style) allows "
        "contact until the person withdraws.",
    )
    double_opt_in = fields.Boolean(
        string="Double Opt-in",
        help="Web sign-ups stay pending until the person confirms by the link "
        "emailed to them.",
    )

    _sql_constraints = [
        ("code_unique", "UNIQUE(code)", "Each consent purpose needs its own code.")
    ]

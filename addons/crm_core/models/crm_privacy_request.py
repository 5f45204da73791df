import base64
from datetime import timedelta

from odoo import api, fields, models
from odoo.exceptions import AccessError, UserError

DEFAULT_DEADLINE_DAYS = 30

REQUEST_TYPES = [
    ("access", "Access"),
    ("portability", "Portability"),
    ("rectification", "Rectification"),
    ("erasure", "Erasure"),
    ("restriction", "Restriction"),
    ("objection", "Objection"),
]
# What only a compliance officer changes once a request exists.
COMPLIANCE_FIELDS = (
    "state",
    "partner_id",
    "request_type",
    "resolution",
    "date_done",
    "company_id",
)


class CrmPrivacyRequest(models.Model):
    """A data-subject request (GDPR articles 15 to 21, CCPA), answered in time."""

    _name = "crm.privacy.request"
    _description = "Data-Subject Request"
    _inherit = ["mail.thread", "mail.activity.mixin"]
    _order = "date_deadline, id desc"
    _check_company_auto = True

    name = fields.Char(
        string="Reference", required=True, readonly=True, copy=False, default="/"
    )
    partner_id = fields.Many2one(
        "res.partner", string="Person", required=True, index=True, tracking=True
    )
    request_type = fields.Selection(REQUEST_TYPES, required=True, tracking=True)
    state = fields.Selection(
        [
            ("new", "New"),
            ("in_progress", "In Progress"),
            ("done", "Done"),
            ("refused", "Refused"),
        ],
        required=True,
        default="new",
        tracking=True,
        group_expand=True,
    )
    date_received = fields.Date(required=True, default=fields.Date.context_today)
    date_deadline = fields.Date(
        string="Deadline",
        compute="_compute_date_deadline",
        store=True,
        readonly=False,
        help="Statutory answer deadline: 30 days after reception unless set in "
        "Settings.",
    )
    date_done = fields.Date(readonly=True, copy=False)
    is_overdue = fields.Boolean(
        string="Overdue", compute="_compute_is_overdue", search="_search_is_overdue"
    )
    user_id = fields.Many2one(
        "res.users",
        string="Assigned To",
        default=lambda self: self.env.user,
        tracking=True,
        domain=[("share", "=", False)],
    )
    company_id = fields.Many2one(
        "res.company", required=True, default=lambda self: self.env.company
    )
    description = fields.Text(help="What the person asked, in their words.")
    resolution = fields.Text(
        readonly=True,
        copy=False,
        help="What was done: exported, erased, kept and why, restricted.",
    )
    # Stored as an attachment bound to this field: ir.attachment checks the
    # field's groups, so only officers read or download the archive.
    export_file = fields.Binary(
        string="Export",
        attachment=True,
        readonly=True,
        copy=False,
        groups="crm_core.group_crm_compliance",
    )
    export_filename = fields.Char(
        readonly=True, copy=False, groups="crm_core.group_crm_compliance"
    )

    @api.depends("date_received")
    def _compute_date_deadline(self):
        days = int(
            self.env["ir.config_parameter"]
            .sudo()
            .get_param("crm_core.privacy_request_days", DEFAULT_DEADLINE_DAYS)
        )
        for request in self:
            request.date_deadline = request.date_received and (
                request.date_received + timedelta(days=days)
            )

    def _compute_is_overdue(self):
        today = fields.Date.context_today(self)
        for request in self:
            request.is_overdue = (
                request.state in ("new", "in_progress")
                and request.date_deadline
                and request.date_deadline < today
            )

    def _search_is_overdue(self, operator, value):
        if operator not in ("=", "!=") or not isinstance(value, bool):
            raise UserError(self.env._("Search overdue requests with = or !=."))
        domain = [
            ("state", "in", ("new", "in_progress")),
            ("date_deadline", "<", fields.Date.context_today(self)),
        ]
        return domain if (operator == "=") == value else ["!", *domain]

    @api.model_create_multi
    def create(self, vals_list):
        officer = self.env.su or self.env.user.has_group(
            "crm_core.group_crm_compliance"
        )
        for vals in vals_list:
            # Salespeople log new requests; answering them is the officers' job.
            if not officer and (
                vals.get("state", "new") != "new"
                or vals.get("resolution")
                or vals.get("date_done")
            ):
                raise AccessError(
                    self.env._(
                        "Log the request as new; a Compliance Officer answers it."
                    )
                )
            if vals.get("name", "/") == "/":
                vals["name"] = self.env["ir.sequence"].next_by_code(
                    "crm.privacy.request"
                )
        requests = super().create(vals_list)
        # The assignee sees the request in their activities, red once overdue.
        activity_type = self.env.ref("mail.mail_activity_data_todo")
        for request in requests.filtered("user_id"):
            request.activity_schedule(
                activity_type_id=activity_type.id,
                date_deadline=request.date_deadline,
                user_id=request.user_id.id,
                summary=self.env._("Answer data-subject request"),
            )
        return requests

    def write(self, vals):
        if (
            not self.env.su
            and (protected := [name for name in COMPLIANCE_FIELDS if name in vals])
            and not self.env.user.has_group("crm_core.group_crm_compliance")
        ):
            raise AccessError(
                self.env._(
                    "Only a Compliance Officer changes the %(fields)s of a "
                    "data-subject request; add a note or assign the request to one.",
                    fields=", ".join(
                        self._fields[name]._description_string(self.env)
                        for name in protected
                    ),
                )
            )
        return super().write(vals)

    def _check_open(self):
        """Closing a request is the compliance officer's call, on open ones only."""
        if not self.env.user.has_group("crm_core.group_crm_compliance"):
            raise AccessError(
                self.env._(
                    "Only a Compliance Officer can answer data-subject requests; "
                    "assign the request to one."
                )
            )
        if closed := self.filtered(lambda r: r.state in ("done", "refused")):
            raise UserError(
                self.env._(
                    "%(names)s is already closed; open a new request instead.",
                    names=", ".join(closed.mapped("name")),
                )
            )

    def _close(self, resolution):
        self.write(
            {
                "state": "done",
                "date_done": fields.Date.context_today(self),
                "resolution": resolution,
            }
        )
        self.activity_feedback(["mail.mail_activity_data_todo"])

    def action_start(self):
        self._check_open()
        self.state = "in_progress"

    def action_refuse(self):
        self._check_open()
        self.write({"state": "refused", "date_done": fields.Date.context_today(self)})
        self.activity_unlink(["mail.mail_activity_data_todo"])

    def action_done(self):
        self._check_open()
        self._close(self.env._("Handled by hand."))

    def action_export(self):
        """Access and portability: one JSON archive of everything we hold."""
        self.ensure_one()
        self._check_open()
        if self.request_type not in ("access", "portability"):
            raise UserError(
                self.env._("Only an access or portability request exports data.")
            )
        content = self.env["crm.privacy.engine"]._export_json(
            self.partner_id, self.company_id
        )
        filename = f"{self.name.replace('/', '-')}.json"
        self.write(
            {
                "export_file": base64.b64encode(content.encode()),
                "export_filename": filename,
            }
        )
        self._close(self.env._("Exported everything we hold as JSON."))
        return {
            "type": "ir.actions.act_url",
            "url": f"/web/content/{self._name}/{self.id}/export_file/{filename}"
            "?download=true",
            "target": "self",
        }

    def action_erase(self):
        """Erasure: irreversible; confirmed in the view, logged here."""
        self.ensure_one()
        self._check_open()
        if self.request_type != "erasure":
            raise UserError(self.env._("Only an erasure request erases a person."))
        person = self.partner_id
        name, email = person.name, person.email_normalized
        report = self.env["crm.privacy.engine"]._erase(person)
        # Odoo's privacy log keeps the masked identity (Settings > Technical).
        self.env["privacy.log"].sudo().create(
            {
                "anonymized_name": name,
                "anonymized_email": email or "unknown@erased.invalid",
                "records_description": self.name,
                "execution_details": "\n".join(report),
            }
        )
        self.message_post(
            body=self.env._("Erasure carried out by %(user)s.", user=self.env.user.name)
        )
        self._close("\n".join(report))

    def action_restrict(self):
        self.ensure_one()
        self._check_open()
        self.partner_id.sudo().privacy_restricted = True
        self._close(
            self.env._(
                "Processing restricted: no campaigns, scoring or assignment until "
                "lifted."
            )
        )

    def action_lift_restriction(self):
        self.ensure_one()
        if not self.env.user.has_group("crm_core.group_crm_compliance"):
            raise AccessError(
                self.env._("Only a Compliance Officer can lift a restriction.")
            )
        self.partner_id.sudo().privacy_restricted = False
        self.message_post(body=self.env._("Restriction lifted."))

    def action_object(self):
        """Objection: withdraw every purpose on every channel, from now on."""
        self.ensure_one()
        self._check_open()
        purposes = self.env["crm.consent.purpose"].search([])
        self.env["crm.consent"].create(
            [
                {
                    "partner_id": self.partner_id.id,
                    "purpose_id": purpose.id,
                    "channel": "all",
                    "state": "withdrawn",
                    "source": "privacy_request",
                    "legal_basis": "consent",
                    "proof": self.name,
                }
                for purpose in purposes
            ]
        )
        self._close(
            self.env._(
                "Withdrawn for %(count)s purpose(s) on all channels.",
                count=len(purposes),
            )
        )

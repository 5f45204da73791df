from odoo import api, fields, models
from odoo.exceptions import ValidationError
from odoo.osv import expression


class MailingMailing(models.Model):
    """A segment as the recipients of a mailing: its members, through the
    mailing's own domain, so that Odoo's recipient counts, A/B tests and sends
    work as usual."""

    _inherit = "mailing.mailing"

    crm_segment_id = fields.Many2one(
        "crm.marketing.segment",
        string="Segment",
        index="btree_not_null",
        help="Send to the members of this segment (the recipients follow its "
        "target). The segment is refreshed right before the mailing is sent.",
    )
    crm_segment_date_refresh = fields.Datetime(
        related="crm_segment_id.date_refresh", string="Segment Refreshed On"
    )

    @api.depends(
        "mailing_model_id",
        "contact_list_ids",
        "mailing_type",
        "mailing_filter_id",
        "crm_segment_id",
    )
    def _compute_mailing_domain(self):
        return super()._compute_mailing_domain()

    def _get_default_mailing_domain(self):
        domain = super()._get_default_mailing_domain()
        # sudo: the segment's target only, for whoever edits the mailing.
        segment = self.crm_segment_id.sudo()
        if segment and segment.target_model == self.mailing_model_name:
            domain = expression.AND([domain, segment._member_domain()])
        return domain

    @api.constrains("crm_segment_id", "mailing_model_id")
    def _check_crm_segment_model(self):
        for mailing in self.filtered("crm_segment_id"):
            # sudo: the segment's target only, for whoever edits the mailing.
            if mailing.crm_segment_id.sudo().target_model != mailing.mailing_model_name:
                raise ValidationError(
                    self.env._(
                        "Mailing “%(mailing)s”: the segment %(segment)s groups "
                        "other records than the mailing's recipients; pick a segment "
                        "of %(model)s or clear it.",
                        mailing=mailing.subject or mailing.display_name,
                        segment=mailing.crm_segment_id.display_name,
                        model=mailing.mailing_model_id.name,
                    )
                )

    @api.onchange("crm_segment_id")
    def _onchange_crm_segment_id(self):
        if self.crm_segment_id:
            self.mailing_model_id = self._crm_segment_model(self.crm_segment_id)

    @api.onchange("mailing_model_id")
    def _onchange_mailing_model_id_crm_segment(self):
        if (
            self.crm_segment_id
            and self.crm_segment_id.sudo().target_model != self.mailing_model_name
        ):
            self.crm_segment_id = False

    @api.model_create_multi
    def create(self, vals_list):
        default_segment = self.env.context.get("default_crm_segment_id")
        for vals in vals_list:
            self._crm_segment_set_model(vals, default_segment)
        return super().create(vals_list)

    def write(self, vals):
        self._crm_segment_set_model(vals)
        return super().write(vals)

    @api.model
    def _crm_segment_model(self, segment):
        # sudo: the segment's target only, for whoever edits the mailing.
        return self.env["ir.model"]._get(segment.sudo().target_model)

    @api.model
    def _crm_segment_set_model(self, vals, default_segment=None):
        """Choosing a segment chooses the recipients' model too."""
        segment_id = vals.get("crm_segment_id", default_segment)
        if segment_id and "mailing_model_id" not in vals:
            segment = self.env["crm.marketing.segment"].browse(segment_id)
            vals["mailing_model_id"] = self._crm_segment_model(segment).id

    def _action_send_mail(self, res_ids=None):
        # The members as of now, not as of the last nightly refresh; explicit
        # recipients (tests, journeys) are sent as given.
        if res_ids is None:
            # sudo: whoever sends, the refresh reads with the segment owner's
            # rights and writes only the segment's own bookkeeping.
            self.crm_segment_id.sudo()._refresh()
        return super()._action_send_mail(res_ids=res_ids)

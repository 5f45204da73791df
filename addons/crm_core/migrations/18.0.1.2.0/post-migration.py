"""Privacy features that stay in their lane.

- Data-subject exports became a binary field only compliance officers read:
  archives made before were plain attachments of the request, readable by anyone
  who reads the request; bind them to the new field, whose groups ir.attachment
  checks, and drop the old link.
- Retention policies run as their owner: the one who created them.
- Audit entries keep who acted as text: fill it for the entries made before.
"""


def migrate(cr, version):
    cr.execute(
        """
        UPDATE crm_retention_policy
           SET user_id = create_uid
         WHERE create_uid IS NOT NULL AND create_uid != 1
           AND (user_id IS NULL OR user_id = 1)
        """
    )
    cr.execute(
        """
        UPDATE crm_audit_log log
           SET user_name = partner.name || ' (' || users.login || ')'
          FROM res_users users
          JOIN res_partner partner ON partner.id = users.partner_id
         WHERE users.id = log.user_id AND log.user_name IS NULL
        """
    )
    _bind_exports(cr)


def _bind_exports(cr):
    cr.execute(
        """
        SELECT 1 FROM information_schema.columns
         WHERE table_name = 'crm_privacy_request'
           AND column_name = 'export_attachment_id'
        """
    )
    if not cr.fetchone():
        return
    cr.execute(
        """
        UPDATE crm_privacy_request request
           SET export_filename = attachment.name
          FROM ir_attachment attachment
         WHERE attachment.id = request.export_attachment_id
        """
    )
    cr.execute(
        """
        UPDATE ir_attachment attachment
           SET res_model = 'crm.privacy.request',
               res_id = request.id,
               res_field = 'export_file'
          FROM crm_privacy_request request
         WHERE attachment.id = request.export_attachment_id
        """
    )
    cr.execute("ALTER TABLE crm_privacy_request DROP COLUMN export_attachment_id")

import html
import re

from odoo import api, models, tools
from odoo.exceptions import ValidationError

# Dynamic parts of a template: inline expressions ({{ }}, #{ } of t-attf) and
# the values of QWeb directives (t-out, t-if, t-att-href, t-set...).
INLINE_RE = re.compile(r"\{\{(.*?)\}\}|#\{(.*?)\}", re.S)
DIRECTIVE_RE = re.compile(r"""\st-[\w:-]+\s*=\s*(?:"([^"]*)"|'([^']*)')""", re.S)
# object.field.field... (the chain of attributes after ``object``).
PATH_RE = re.compile(r"\bobject((?:\s*\.\s*[A-Za-z_]\w*)+)")
WORD_RE = re.compile(r"[A-Za-z_]\w*")
# Calls that hand over every field of a record, tagged ones included.
BULK_READS = {"read", "search_read", "web_read", "export_data", "copy_data"}
BULK_READ_RE = re.compile(r"\b(" + "|".join(sorted(BULK_READS)) + r")\s*\(")
# Never shown to patients, whether or not a module tags it.
ALWAYS_PROTECTED = {("crm.healthcare.appointment.type", "clinical_name")}
ALLOWED_HINT = (
    "Messages to patients may show their first name (object.patient_first_name), "
    "the date, time and place of the appointment (object.reminder_date, "
    "object.reminder_time, object.reminder_place) and the clinic's phone number "
    "(object.company_id.phone)"
)


def template_expressions(text, qweb=False):
    """The dynamic parts of a template's ``text``: expressions in ``{{ }}``
    and, for QWeb, the values of its ``t-`` directives."""
    if not text:
        return []
    text = str(text)
    parts = [a or b for a, b in INLINE_RE.findall(text)]
    if qweb:
        parts += [html.unescape(a or b) for a, b in DIRECTIVE_RE.findall(text)]
    return parts


def phi_references(env, model_name, expressions):
    """The protected health information that ``expressions`` of a template on
    ``model_name`` would render, as a list of (reference, description), the
    first ones most precise:

    - ``object.x.y`` paths resolved field by field through relations (and
      related fields), wherever they lead;
    - for templates on a model holding or linked to protected information, any
      mention of a protected field's name (``object['allergies']``,
      ``mapped('patient_id.date_of_birth')``, ``sudo().clinical_name``) and the
      calls that read every field (``read()``).
    """
    if not model_name or model_name not in env or not expressions:
        return []
    protected = env["mail.template"]._crm_phi_field_map()
    found = []
    for expression in expressions:
        for match in PATH_RE.finditer(expression):
            names = [name.strip() for name in match.group(1).split(".") if name.strip()]
            reference = _resolve_path(env, model_name, names, protected)
            if reference:
                found.append(reference)
    model = env[model_name]
    phi_models = {model for model, _name in protected}
    near_phi = model_name in phi_models or any(
        field.relational and field.comodel_name in phi_models
        for field in model._fields.values()
    )
    if not near_phi:
        return found
    names_to_models = {}
    for phi_model, name in protected:
        names_to_models.setdefault(name, []).append(phi_model)
    for expression in expressions:
        for word in WORD_RE.findall(expression):
            for phi_model in names_to_models.get(word, []):
                found.append((word, _field_label(env, phi_model, word)))
        for call in BULK_READ_RE.findall(expression):
            found.append(
                (f"{call}()", env._("reads every field, protected ones included"))
            )
    return found


def _resolve_path(env, model_name, names, protected):
    """Follow ``object.<names>`` from ``model_name``; return (reference,
    description) for the first protected field met, else None."""
    current = model_name
    for index, name in enumerate(names):
        field = env[current]._fields.get(name)
        if field is None:
            return None  # a method or an attribute: the word scan looks at it
        if _is_protected(field, protected):
            return (
                "object." + ".".join(names[: index + 1]),
                _field_label(env, current, name),
            )
        if not field.relational:
            return None
        current = field.comodel_name
    return None


def _is_protected(field, protected):
    while field is not None:
        if (field.model_name, field.name) in protected:
            return True
        field = getattr(field, "related_field", None) if field.related else None
    return False


def _field_label(env, model_name, field_name):
    field = env[model_name]._fields[field_name]
    return env._(
        "%(field)s of %(model)s",
        field=field._description_string(env),
        model=env["ir.model"]._get(model_name).name or model_name,
    )


def check_templates(templates, text_fields, qweb_fields=(), langs=None):
    """Refuse, naming the field, templates (mail or SMS) whose dynamic parts
    render protected health information; in every language given (the
    template's own otherwise), since a translation is a template too."""
    for lang in langs or [None]:
        records = templates.with_context(lang=lang) if lang else templates
        for template in records:
            expressions = []
            for field_name in text_fields:
                expressions += template_expressions(
                    template[field_name], qweb=field_name in qweb_fields
                )
            references = phi_references(template.env, template.model, expressions)
            if references:
                reference, description = references[0]
                raise ValidationError(
                    template.env._(
                        'The template "%(template)s" would show protected health '
                        "information: %(reference)s (%(description)s). %(allowed)s: "
                        "remove it and save again.",
                        template=template.name,
                        reference=reference,
                        description=description,
                        allowed=template.env._(ALLOWED_HINT),
                    )
                )


class MailTemplate(models.Model):
    """Email templates never render protected health information: saving one
    that would is refused with the field named (minimum necessary)."""

    _inherit = "mail.template"

    # Rendered fields: a protected value in any of them would reach the email.
    _crm_phi_text_fields = (
        "subject",
        "body_html",
        "email_from",
        "email_to",
        "email_cc",
        "partner_to",
        "reply_to",
        "scheduled_date",
        "lang",
    )

    @api.model
    @tools.ormcache()
    def _crm_phi_field_map(self):
        """Every (model, field) of the registry tagged ``phi=True``, plus the
        appointment type's clinical name."""
        protected = set(ALWAYS_PROTECTED)
        for model_name in self.env.registry:
            model = self.env[model_name]
            if model._abstract:
                continue
            protected.update((model_name, name) for name in model._crm_phi_fields())
        return frozenset(
            (model, name)
            for model, name in protected
            if model in self.env and name in self.env[model]._fields
        )

    @api.constrains("model_id", *_crm_phi_text_fields)
    def _check_crm_phi(self):
        check_templates(self, self._crm_phi_text_fields, qweb_fields=("body_html",))

    def _update_field_translations(
        self, field_name, translations, digest=None, source_lang=None
    ):
        res = super()._update_field_translations(
            field_name, translations, digest=digest, source_lang=source_lang
        )
        if field_name in self._crm_phi_text_fields:
            check_templates(
                self,
                (field_name,),
                qweb_fields=("body_html",),
                langs=list(translations),
            )
        return res

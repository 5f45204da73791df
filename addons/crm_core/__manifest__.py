{
    "name": "CRM Core: Customer 360°",
    "summary": "Customer 360° view and interaction timeline across every channel",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/crm-suite/crm-suite",
    "author": "CRM Suite",
    "license": "LGPL-3",
    "depends": ["crm", "account"],
    "data": [
        "security/crm_core_security.xml",
        "security/ir.model.access.csv",
        "views/crm_interaction_views.xml",
        "views/res_partner_views.xml",
        "views/crm_lead_views.xml",
        "views/crm_core_menus.xml",
    ],
    "demo": [
        "demo/crm_core_demo.xml",
    ],
    "installable": True,
    "application": False,
}

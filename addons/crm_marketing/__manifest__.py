{
    "name": "CRM Marketing: Segments, Journeys, Engagement, ROI",
    "summary": "RFM and lifecycle segments, consent-gated email and SMS, nurturing "
    "journeys, engagement scoring with decay, campaign ROI on invoiced margin",
    "version": "18.0.1.0.0",
    "category": "Marketing/Email Marketing",
    "website": "https://github.com/crm-suite/crm-suite",
    "author": "CRM Suite",
    "license": "LGPL-3",
    # sale_crm: invoices carry their order's campaign, and orders their opportunity.
    "depends": ["crm_core", "mass_mailing_crm", "mass_mailing_sms", "sale_crm"],
    "data": [
        "security/crm_marketing_security.xml",
        "security/ir.model.access.csv",
        "security/crm_marketing_roi_security.xml",
        "data/crm_marketing_engagement_data.xml",
        "data/crm_marketing_journey_data.xml",
        "data/crm_marketing_segment_data.xml",
        "views/utm_campaign_views.xml",
        "report/crm_marketing_roi_report_views.xml",
        "views/crm_marketing_engagement_views.xml",
        "views/mailing_mailing_views.xml",
        "views/crm_marketing_subscription_templates.xml",
        "views/crm_marketing_journey_views.xml",
        "views/crm_marketing_segment_views.xml",
        "views/crm_marketing_menus.xml",
    ],
    "demo": ["demo/crm_marketing_demo.xml"],
    "assets": {
        "web.assets_tests": ["crm_marketing/static/tests/tours/*.js"],
    },
    "installable": True,
    "application": False,
}

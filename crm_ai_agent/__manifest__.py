{
    "name": "CRM AI Agent",
    "summary": "Capture first contacts from WhatsApp, Instagram, Messenger, Telegram and web chat "
    "into CRM leads, classified and routed by AI",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/crm-ai-agent/crm-ai-agent",
    "author": "CRM AI Agent",
    "license": "LGPL-3",
    "application": True,
    "installable": True,
    "depends": [
        "base_setup",
        "bus",
        "crm",
        "mail",
        "phone_validation",
        "resource",
        "sms",
        "utm",
    ],
    "external_dependencies": {
        "python": [
            "phonenumbers",
            "email-validator",
            "openai",
            "requests",
            "python-telegram-bot",
            "PyJWT",
        ],
    },
    "data": [
        "security/crm_ai_agent_security.xml",
        "security/ir.model.access.csv",
        "data/utm_data.xml",
        "data/ir_cron_data.xml",
        "data/ir_config_parameter_data.xml",
        "views/crm_ai_channel_views.xml",
        "views/crm_ai_message_views.xml",
        "views/crm_ai_identity_views.xml",
        "views/crm_lead_views.xml",
        "views/res_config_settings_views.xml",
        "views/crm_ai_agent_menus.xml",
    ],
    "demo": [
        "demo/crm_ai_agent_demo.xml",
    ],
    "assets": {
        "web.assets_backend": [
            "crm_ai_agent/static/src/js/**/*",
            "crm_ai_agent/static/src/xml/**/*",
            "crm_ai_agent/static/src/scss/**/*",
        ],
        "web.assets_tests": [
            "crm_ai_agent/static/tests/tours/**/*",
        ],
    },
}

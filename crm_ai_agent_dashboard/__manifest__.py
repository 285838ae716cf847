{
    "name": "CRM AI Agent Dashboard",
    "summary": "Manager reports of the AI agent: leads per channel, hot vs cold, conversion, response times",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/crm-ai-agent/crm-ai-agent",
    "author": "CRM AI Agent",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["crm_ai_agent"],
    "external_dependencies": {"python": []},
    "data": [
        "views/crm_ai_dashboard_views.xml",
    ],
}

{
    "name": "CRM AI Agent Campaigns",
    "summary": "Opt-out aware follow-ups and segmented campaigns over the AI agent's channels",
    "version": "18.0.1.0.0",
    "category": "Sales/CRM",
    "website": "https://github.com/crm-ai-agent/crm-ai-agent",
    "author": "CRM AI Agent",
    "license": "LGPL-3",
    "installable": True,
    "depends": ["crm_ai_agent"],
    "external_dependencies": {"python": []},
    "data": [],
}

"""ORM-free business logic of the CRM AI Agent (importable without Odoo)."""

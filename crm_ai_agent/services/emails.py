"""E-mail normalisation with email-validator (syntax only, no DNS lookup)."""

import re

from email_validator import EmailNotValidError, validate_email

EMAIL_PATTERN = re.compile(r"[\w.+'-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


def normalize_email(raw):
    """Return the normalised address (domain lower-cased) or ``""``."""
    if not raw:
        return ""
    text = str(raw).strip().strip("<>.,;:()[]\"'")
    try:
        info = validate_email(text, check_deliverability=False, allow_smtputf8=True)
    except EmailNotValidError:
        return ""
    local, _, domain = info.normalized.rpartition("@")
    return f"{local.lower()}@{domain.lower()}"


def find_emails(text):
    """Every valid address found in free text, normalised, in order, no duplicates."""
    found = []
    for match in EMAIL_PATTERN.findall(text or ""):
        email = normalize_email(match)
        if email and email not in found:
            found.append(email)
    return found

"""Placeholders of follow-up and campaign texts: plain ``{name}`` words, no code, no format()."""

PLACEHOLDERS = ("name", "full_name", "interest", "company", "salesperson")


def render_text(text, values):
    """Replace each known ``{key}`` of ``text`` by ``values[key]``; unknown braces are left as they are."""
    result = text or ""
    for key in PLACEHOLDERS:
        result = result.replace("{%s}" % key, str(values.get(key) or ""))
    return result.strip()


def lead_values(contact_name, partner_name, interest, company, salesperson):
    """The placeholder values of one lead; ``name`` is the first name."""
    full_name = (contact_name or partner_name or "").strip()
    return {
        "name": full_name.split(" ")[0] if full_name else "",
        "full_name": full_name,
        "interest": interest or "",
        "company": company or "",
        "salesperson": salesperson or "",
    }

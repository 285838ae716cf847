"""Phone numbers: E.164 normalisation and the Brazilian ninth-digit rule.

WhatsApp ids of Brazilian mobiles registered before 2012-2016 often lack the
ninth digit (``55 11 8765-4321`` for ``+55 11 98765-4321``); both forms are the
same person, so lookups use :func:`phone_variants`.
"""

import re

import phonenumbers

_JID_SUFFIX = re.compile(r"@.*$")
_NON_DIGIT = re.compile(r"[^\d+]")


def normalize_phone(raw, region="BR"):
    """Return ``raw`` as E.164 (``+5511987654321``) or ``""`` when it is not a phone.

    Accepts what providers send: bare international digits (WhatsApp ``wa_id``),
    JIDs (``5511987654321@s.whatsapp.net``), ``whatsapp:+...``, local numbers
    (parsed in ``region``), with any punctuation. Brazilian mobiles are returned
    in their current 9-digit form.
    """
    if not raw:
        return ""
    text = str(raw).strip()
    if text.lower().startswith(("whatsapp:", "tel:")):
        text = text.split(":", 1)[1]
    text = _JID_SUFFIX.sub("", text)
    text = text.split(":", 1)[0]  # JIDs may carry a device suffix: 5511...:12@s.whatsapp.net
    cleaned = _NON_DIGIT.sub("", text)
    if not cleaned or len(cleaned.lstrip("+")) < 8 or len(cleaned.lstrip("+")) > 15:
        return ""
    candidates = []
    if cleaned.startswith("+"):
        candidates.append((cleaned, None))
    elif cleaned.startswith("00"):
        candidates.append(("+" + cleaned[2:], None))
    else:
        # Bare digits: a local number in the region first when it is short enough
        # to be one, else an international number without its plus.
        if len(cleaned) <= 11:
            candidates.append((cleaned, region))
        candidates.append(("+" + cleaned, None))
        if len(cleaned) > 11:
            candidates.append((cleaned, region))
    for number, reg in candidates:
        parsed = _parse(number, reg)
        if parsed is None:
            continue
        parsed = _br_add_ninth_digit(parsed)
        if phonenumbers.is_valid_number(parsed):
            return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
    return ""


def _parse(number, region):
    try:
        return phonenumbers.parse(number, region)
    except phonenumbers.NumberParseException:
        return None


def _br_add_ninth_digit(parsed):
    """``+55 AA 8765-4321`` (8-digit mobile) -> ``+55 AA 98765-4321``."""
    if parsed.country_code != 55:
        return parsed
    national = str(parsed.national_number)
    if len(national) == 10 and national[2] in "6789":
        candidate = phonenumbers.PhoneNumber(country_code=55, national_number=int(national[:2] + "9" + national[2:]))
        if phonenumbers.is_valid_number(candidate):
            return candidate
    return parsed


def phone_variants(e164):
    """All stored forms under which the same person may be known.

    ``+5511987654321`` -> ``["+5511987654321", "+551187654321"]``; other
    countries -> ``[e164]``.
    """
    if not e164:
        return []
    variants = [e164]
    if e164.startswith("+55") and len(e164) == 14 and e164[5] == "9":
        variants.append(e164[:5] + e164[6:])
    elif e164.startswith("+55") and len(e164) == 13 and e164[5] in "6789":
        variants.append(e164[:5] + "9" + e164[5:])
    return variants


def format_international(e164):
    """Human form for display: ``+55 11 98765-4321``."""
    parsed = _parse(e164, None) if e164 else None
    if parsed is None:
        return e164 or ""
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.INTERNATIONAL)


def to_whatsapp_id(e164):
    """E.164 -> the digits-only form WhatsApp APIs take as recipient."""
    return (e164 or "").lstrip("+")

"""Mask personal data before a message leaves the server (LGPD), and put it back afterwards.

API (stable):

``mask_pii(text, kinds=KINDS, *, mapping=None) -> (masked_text, mapping)``
    Replaces CPFs (``123.456.789-09`` and valid bare ``12345678909``), CNPJs, card
    numbers (14 to 19 digits passing the Luhn check), e-mail addresses and phone
    numbers by placeholders such as ``[CPF_1]``, ``[EMAIL_1]``, ``[TELEFONE_1]``. The same
    text gets the same placeholder. ``mapping`` is ``{placeholder: original}``, so
    ``unmask(*mask_pii(text)) == text``. Given a ``mapping`` from an earlier call (several
    texts of one prompt), it goes on from it: known originals keep their placeholder, new
    ones get the next numbers; the mapping returned holds both.

``unmask(text, mapping) -> str``
    Puts the originals back (in a model's answer, for instance).

Typical use with a cloud model: ``masked, mapping = mask_pii(text)`` ->
``build_messages(masked, ...)`` -> model -> ``validate_answer(answer, mapping=mapping)``.
"""

import re

from .emails import EMAIL_PATTERN, normalize_email
from .rules_extract import find_phones

KINDS = ("email", "cnpj", "cpf", "card", "phone")
_LABELS = {"email": "EMAIL", "cnpj": "CNPJ", "cpf": "CPF", "card": "CARTAO", "phone": "TELEFONE"}

_CPF_PUNCTUATED = re.compile(r"(?<![\d.])\d{3}\.\d{3}\.\d{3}-\d{2}(?![\d-])")
_CPF_LOOSE = re.compile(r"(?<![\d.+])\d{3}[.\s]?\d{3}[.\s]?\d{3}[-.\s]?\d{2}(?![\d-])")
_CNPJ = re.compile(r"(?<![\d.])\d{2}\.?\d{3}\.?\d{3}/?\d{4}-?\d{2}(?![\d-])")
_CARD = re.compile(r"(?<![\d+])\d(?:[ -]?\d){13,18}(?![\d-])")
_PLACEHOLDER = re.compile(r"\[(?:EMAIL|CNPJ|CPF|CARTAO|TELEFONE)_\d+\]")


def _digits(text):
    return re.sub(r"\D", "", text)


def cpf_is_valid(value):
    """Check digits of a CPF (any punctuation)."""
    digits = _digits(value)
    if len(digits) != 11 or digits == digits[0] * 11:
        return False
    for size in (9, 10):
        total = sum(int(d) * w for d, w in zip(digits[:size], range(size + 1, 1, -1), strict=True))
        check = (total * 10) % 11 % 10
        if check != int(digits[size]):
            return False
    return True


def cnpj_is_valid(value):
    """Check digits of a CNPJ (any punctuation)."""
    digits = _digits(value)
    if len(digits) != 14 or digits == digits[0] * 14:
        return False
    weights = [5, 4, 3, 2, 9, 8, 7, 6, 5, 4, 3, 2]
    for size in (12, 13):
        w = weights if size == 12 else [6, *weights]
        total = sum(int(d) * k for d, k in zip(digits[:size], w, strict=True))
        check = 11 - total % 11
        if (0 if check >= 10 else check) != int(digits[size]):
            return False
    return True


def luhn_is_valid(value):
    """Luhn checksum of a card number (any spacing)."""
    digits = _digits(value)
    if not 14 <= len(digits) <= 19 or digits == digits[0] * len(digits):
        return False
    total = 0
    for i, d in enumerate(reversed(digits)):
        n = int(d)
        if i % 2:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return total % 10 == 0


def _find(text, kinds):
    """``[(start, end, kind)]`` of the personal data in ``text``, without overlaps."""
    found = []

    def add(start, end, kind):
        if any(start < e and s < end for s, e, _k in found):
            return
        found.append((start, end, kind))

    if "email" in kinds:
        for match in EMAIL_PATTERN.finditer(text):
            if normalize_email(match.group()):
                add(*match.span(), "email")
    if "cnpj" in kinds:
        for match in _CNPJ.finditer(text):
            punctuated = "/" in match.group() or "." in match.group()
            if punctuated or cnpj_is_valid(match.group()):
                add(*match.span(), "cnpj")
    if "cpf" in kinds:
        for match in _CPF_PUNCTUATED.finditer(text):
            add(*match.span(), "cpf")
        for match in _CPF_LOOSE.finditer(text):
            if cpf_is_valid(match.group()):
                add(*match.span(), "cpf")
    if "card" in kinds:
        for match in _CARD.finditer(text):
            if luhn_is_valid(match.group()):
                add(*match.span(), "card")
    if "phone" in kinds:
        for _number, span in find_phones(text, unique=False):
            add(*span, "phone")
    found.sort()
    return found


def mask_pii(text, kinds=KINDS, *, mapping=None):
    """``(masked_text, {placeholder: original})``; see the module docstring."""
    text = "" if text is None else str(text)
    mapping = dict(mapping or {})
    by_value = {}
    counters = dict.fromkeys(_LABELS, 0)
    kind_of = {label: kind for kind, label in _LABELS.items()}
    for placeholder, original in mapping.items():
        label, _sep, number = placeholder.strip("[]").rpartition("_")
        kind = kind_of.get(label)
        if kind and number.isdigit():
            by_value[(kind, original)] = placeholder
            counters[kind] = max(counters[kind], int(number))
    pieces = []
    last = 0
    for start, end, kind in _find(text, set(kinds)):
        original = text[start:end]
        key = (kind, original)
        placeholder = by_value.get(key)
        if placeholder is None:
            counters[kind] += 1
            placeholder = f"[{_LABELS[kind]}_{counters[kind]}]"
            by_value[key] = placeholder
            mapping[placeholder] = original
        pieces.append(text[last:start])
        pieces.append(placeholder)
        last = end
    pieces.append(text[last:])
    return "".join(pieces), mapping


def unmask(text, mapping):
    """Put the originals of ``mapping`` back in ``text`` (unknown placeholders are left as they are)."""
    if not text or not mapping:
        return text
    return _PLACEHOLDER.sub(lambda m: mapping.get(m.group(), m.group()), str(text))

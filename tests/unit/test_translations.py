"""Brazilian Portuguese translations of the three addons (``i18n/<addon>.pot`` and ``i18n/pt_BR.po``).

Checked without Odoo: every exported term has a translation, nothing is fuzzy, the
placeholders and HTML tags of each term survive in its translation, and the lead
temperatures carry the product's fixed wording.
"""

import re
from collections import Counter
from pathlib import Path

import polib
import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("crm_ai_agent", "crm_ai_agent_campaigns", "crm_ai_agent_dashboard")

# %s, %d, %(name)s... (a literal "%%" is not a placeholder)
PRINTF = re.compile(r"%(?:\(\w+\))?[sdifr]")
# {name} (Python format, the acknowledgement texts) and {{1}} (WhatsApp template variables)
BRACES = re.compile(r"\{\{\s*\w+\s*\}\}|\{\w*\}")
TAG = re.compile(r"<(/?)([a-zA-Z][\w-]*)((?:\s+[^<>]*?)?)\s*(/?)>")
ATTRIBUTE = re.compile(r"([\w:.-]+)\s*=\s*(\"[^\"]*\"|'[^']*')")
# Texts that people read: translated inside the tags.
TRANSLATED_ATTRIBUTES = {"title", "alt", "placeholder", "aria-label", "string", "help", "data-tooltip"}
HTML_TAGS = {
    "a", "b", "blockquote", "br", "button", "code", "div", "em", "h1", "h2", "h3", "h4", "h5", "h6", "hr",
    "i", "img", "kbd", "label", "li", "ol", "p", "pre", "small", "span", "strong", "sub", "sup", "t",
    "table", "tbody", "td", "th", "thead", "tr", "u", "ul", "field", "widget",
}  # fmt: skip
TEMPERATURES = {"hot": "Quente", "warm": "Morno", "cold": "Frio", "in_service": "Em Atendimento"}


def _po(addon):
    return polib.pofile(str(ROOT / addon / "i18n" / "pt_BR.po"))


def _pot(addon):
    return polib.pofile(str(ROOT / addon / "i18n" / f"{addon}.pot"))


def _tags(text):
    """HTML tags of a text, with their untranslated attributes (a "<this value>" in prose is no tag)."""
    tags = []
    for closing, name, attrs, self_closing in TAG.findall(text):
        if name.lower() not in HTML_TAGS:
            continue
        kept = tuple(
            sorted((key, value) for key, value in ATTRIBUTE.findall(attrs) if key.lower() not in TRANSLATED_ATTRIBUTES)
        )
        tags.append((closing, name.lower(), kept, self_closing))
    return Counter(tags)


@pytest.mark.parametrize("addon", ADDONS)
def test_addon_has_template_and_pt_br(addon):
    assert (ROOT / addon / "i18n" / f"{addon}.pot").is_file()
    assert (ROOT / addon / "i18n" / "pt_BR.po").is_file()
    assert _po(addon).metadata.get("Language") == "pt_BR"


@pytest.mark.parametrize("addon", ADDONS)
def test_every_term_is_translated(addon):
    po = _po(addon)
    empty = [entry.msgid for entry in po if not entry.obsolete and not entry.msgstr.strip()]
    fuzzy = [entry.msgid for entry in po if "fuzzy" in entry.flags]
    assert not empty, f"untranslated in {addon}: {empty}"
    assert not fuzzy, f"fuzzy in {addon}: {fuzzy}"


@pytest.mark.parametrize("addon", ADDONS)
def test_po_covers_the_template(addon):
    translated = {entry.msgid for entry in _po(addon) if not entry.obsolete}
    missing = [entry.msgid for entry in _pot(addon) if entry.msgid not in translated]
    assert not missing, f"terms of {addon}.pot missing from pt_BR.po: {missing}"


@pytest.mark.parametrize("addon", ADDONS)
def test_placeholders_and_tags_are_kept(addon):
    problems = []
    for entry in _po(addon):
        if entry.obsolete or not entry.msgstr:
            continue
        source, target = entry.msgid, entry.msgstr
        if Counter(PRINTF.findall(source)) != Counter(PRINTF.findall(target)):
            problems.append(("placeholders", source, target))
        if Counter(BRACES.findall(source)) != Counter(BRACES.findall(target)):
            problems.append(("braces", source, target))
        if _tags(source) != _tags(target):
            problems.append(("tags", source, target))
    assert not problems, problems


def test_tag_check_sees_a_changed_tag():
    assert _tags('<span class="o_stat_text">A</span>') == _tags('<span class="o_stat_text">B</span>')
    assert _tags('<i class="fa fa-user" title="Attended by"/>') == _tags('<i class="fa fa-user" title="Atendido por"/>')
    assert _tags('<span class="badge">A</span>') != _tags('<span class="badge">A')
    assert _tags('<span class="badge">A</span>') != _tags('<span class="muted">A</span>')
    assert not _tags("add 'X-Webhook-Secret: <this value>' to the headers")


def test_temperatures():
    """The four temperatures of a lead: fixed product wording, on the lead and on the AI decision."""
    po = _po("crm_ai_agent")
    for key, label in TEMPERATURES.items():
        occurrence = f"crm_ai_agent.selection__crm_lead__ai_temperature__{key}"
        entries = [e for e in po if any(occurrence == ref.split(",")[-1].split(":")[-1] for ref, _ in e.occurrences)]
        assert len(entries) == 1, f"no term for the temperature {key}"
        assert entries[0].msgstr == label

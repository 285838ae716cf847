"""Does the customer ask to talk to a person? Plain text rules, Portuguese, Spanish and English.

The AI classification may say ``needs_human`` too; this catches the explicit
requests even when the AI is switched off.
"""

import re
import unicodedata

_PATTERNS = (
    # Portuguese
    r"\b(?:falar|conversar|atendimento|falo|fala)\s+(?:com\s+)?(?:um|uma|o|a|algum|alguma|alguem)?\s*"
    r"(?:atendente|humano|humana|pessoa|alguem|vendedor|vendedora|consultor|consultora|gerente|responsavel)\b",
    r"\batendimento\s+humano\b",
    r"\b(?:quero|queria|preciso|gostaria\s+de|pode|podem)\s+(?:falar\s+com\s+)?(?:um|uma)?\s*atendente\b",
    r"\b(?:me\s+liga|me\s+liguem|me\s+ligue|pode\s+me\s+ligar|podem\s+me\s+ligar)\b",
    r"\b(?:voce|vc)\s+e\s+(?:um\s+)?(?:robo|bot)\b",
    r"\bpessoa\s+de\s+verdade\b",
    # Spanish
    r"\bhablar\s+con\s+(?:un|una|el|la|alguien)?\s*(?:agente|humano|persona|asesor|asesora|vendedor|vendedora)\b",
    # English
    r"\b(?:talk|speak|chat)\s+(?:to|with)\s+(?:a|an|the|some)?\s*(?:human|person|agent|someone|representative|"
    r"salesperson|rep)\b",
    r"\b(?:real|live)\s+(?:person|human|agent)\b",
    r"\bcall\s+me\b",
)
_RX = re.compile("|".join(f"(?:{p})" for p in _PATTERNS))
_NEGATED = re.compile(r"\b(?:nao|not|don'?t|no)\s+(?:\w+\s+){0,2}$")


def fold(text):
    """Lower case without accents, single spaces."""
    text = unicodedata.normalize("NFKD", text or "")
    text = "".join(c for c in text if not unicodedata.combining(c)).lower()
    return re.sub(r"\s+", " ", text).strip()


def asks_for_person(text):
    """True when the text asks for a human (not when it says it does not want one)."""
    folded = fold(text)
    for match in _RX.finditer(folded):
        if not _NEGATED.search(folded[: match.start()]):
            return True
    return False

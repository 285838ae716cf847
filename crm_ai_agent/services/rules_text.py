"""Text normalisation for the rules engine, with a map back to the customer's characters.

Messages are matched in a *folded* form: accents removed (``unicodedata`` NFKD),
lower case, emojis and symbols turned into spaces, runs of white space collapsed,
and every run of a repeated letter squeezed to one letter (``urgenteee`` ->
``urgente``, ``siiim`` -> ``sim``; ``carro`` -> ``caro`` too, which is why the
keywords go through the same :func:`fold` before they are compiled). Digits are
never squeezed.

:class:`Folded` keeps, for each folded character, the index of the original
character it came from, so a match in the folded text can be quoted in the
customer's own words (:meth:`Folded.quote`).

API (stable):

- ``fold(text) -> str``: the folded form of any text (keywords, catalog entries).
- ``Folded(text, correct=None)``: ``.text`` (folded), ``.original``, ``.quote(start, end)``,
  ``.span(start, end)`` (original indices), ``.blank(spans)``. ``correct(word)`` may return
  the right spelling of a misspelt word (see ``rules_lexicon.correct_word``).
- ``compile_terms(terms) -> re.Pattern | None``: one regex matching any of the
  keywords as whole words in folded text. A keyword ending in ``*`` matches any
  word starting with it; one starting with ``re:`` is a raw regex (on folded text).
- ``rx(pattern) -> re.Pattern``: compile a hand-written regex after folding its
  literal letters the same way as the text.
"""

import re
import unicodedata
from functools import lru_cache

_SYMBOL_CATEGORIES = {"So", "Sk", "Sm", "Cs", "Co", "Cn", "Cc", "Zl", "Zp"}
_DROP_CATEGORIES = {"Mn", "Me", "Cf"}
_KEEP_SYMBOLS = set("$%+<>=@")


@lru_cache(maxsize=4096)
def _fold_char(ch):
    if ch.isascii():
        if ch in "\t\n\r\f\v":
            return " "
        return ch.lower()
    category = unicodedata.category(ch)
    if category in _DROP_CATEGORIES:
        return ""
    if category in _SYMBOL_CATEGORIES and ch not in _KEEP_SYMBOLS:
        return " "
    if category.startswith("Z"):
        return " "
    decomposed = unicodedata.normalize("NFKD", ch)
    out = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    if category == "No" and not out.isdigit():  # fractions and the like
        return " "
    return out


_WORD = re.compile(r"[a-z]+")


def _is_letter(ch):
    return "a" <= ch <= "z"


class Folded:
    """A folded message and the map from folded to original positions."""

    __slots__ = ("_index", "original", "text")

    def __init__(self, original, correct=None):
        self.original = original or ""
        chars = []
        index = []
        prev = " "
        for i, ch in enumerate(self.original):
            for c in _fold_char(ch):
                if c == " ":
                    if prev == " ":
                        continue
                elif c == prev and _is_letter(c):
                    continue
                chars.append(c)
                index.append(i)
                prev = c
        if chars and chars[-1] == " ":
            chars.pop()
            index.pop()
        self.text = "".join(chars)
        self._index = index
        if correct is not None:
            self._correct(correct)

    def _correct(self, correct):
        """Replace misspelt words: ``correct(token)`` returns the right spelling or ``None``."""
        pieces = []
        index = []
        last = 0
        changed = False
        for match in _WORD.finditer(self.text):
            word = match.group()
            fixed = correct(word) if len(word) >= 5 else None
            if not fixed or fixed == word:
                continue
            changed = True
            start, end = match.span()
            pieces.append(self.text[last:start])
            index.extend(self._index[last:start])
            pieces.append(fixed)
            index.extend(self._index[start + min(k, len(word) - 1)] for k in range(len(fixed)))
            last = end
        if changed:
            pieces.append(self.text[last:])
            index.extend(self._index[last:])
            self.text = "".join(pieces)
            self._index = index

    def blank(self, spans):
        """Blank the folded ``spans`` (replaced by spaces, positions unchanged)."""
        if not spans:
            return
        chars = list(self.text)
        for start, end in spans:
            for i in range(max(0, start), min(end, len(chars))):
                chars[i] = " "
        self.text = "".join(chars)

    def span(self, start, end):
        """Original ``(start, end)`` of the folded slice ``[start:end]``."""
        if not self._index or end <= start:
            return (0, 0)
        start = max(0, min(start, len(self._index) - 1))
        end = max(start + 1, min(end, len(self._index)))
        return (self._index[start], self._index[end - 1] + 1)

    def quote(self, start, end):
        """The customer's own characters for the folded slice ``[start:end]``."""
        o_start, o_end = self.span(start, end)
        # Extend to the end of the original word (squeezed letters, accents).
        text = self.original
        while o_end < len(text) and (text[o_end].isalnum() and text[o_end - 1].isalnum()):
            o_end += 1
        return " ".join(text[o_start:o_end].split())


def fold(text):
    """Folded form of ``text`` (see the module docstring)."""
    return Folded(text).text


def _squeeze_pattern(pattern):
    """Fold accents and squeeze repeated letters in a hand-written regex."""
    folded = "".join(c for c in unicodedata.normalize("NFKD", pattern) if not unicodedata.combining(c))
    return re.sub(r"(?<!\\)([a-z])\1+", r"\1", folded)


_B = r"(?<![a-z0-9])"
_E = r"(?:(?<=\s)|(?![a-z0-9]))"  # a pattern ending in a space needs no boundary after it


def rx(pattern, *, words=True):
    """Compile a hand-written pattern for folded text; ``words`` adds word boundaries."""
    body = _squeeze_pattern(pattern)
    if words:
        body = f"{_B}(?:{body}){_E}"
    return re.compile(body)


def term_regex(term):
    """Regex source (no boundaries) for one keyword, as matched in folded text."""
    term = (term or "").strip()
    if not term:
        return ""
    if term.startswith("re:"):
        return _squeeze_pattern(term[3:])
    prefix = term.endswith("*")
    words = fold(term.rstrip("*")).split()
    words = [re.sub(r"[^a-z0-9]+", " ", w).strip() for w in words]
    words = [w for part in words for w in part.split()]
    if not words:
        return ""
    source = r"[^a-z0-9]+".join(re.escape(w) for w in words)
    if prefix:
        source += "[a-z0-9]*"
    return source


def _compiles(source):
    try:
        re.compile(source)
    except re.error:
        return False
    return True


def compile_terms(terms):
    """One regex matching any of ``terms`` as whole words, or ``None`` (invalid ``re:`` terms are skipped)."""
    sources = [s for s in (term_regex(str(t)) for t in terms or ()) if s and _compiles(s)]
    if not sources:
        return None
    # Longest first so that "corolla cross" wins over "corolla".
    sources.sort(key=len, reverse=True)
    return re.compile(f"{_B}(?:{'|'.join(sources)}){_E}")


TOKEN = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def tokens(folded_text):
    """Word tokens of a folded text."""
    return TOKEN.findall(folded_text)

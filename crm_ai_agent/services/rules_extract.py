"""Field extraction for the rules engine: contacts, name, company, budget, timeframe, interest.

Every extractor takes a :class:`rules_text.Folded` message and returns values
in the customer's own characters (names keep their accents), plus the folded
span that fired so the engine can quote it.

API (stable, used by ``rules_engine`` and ``pii``):

- ``find_phones(text, unique=True) -> list[(e164, (start, end))]``: phone numbers in free text
  (original positions); numbers without ``+`` are read as Brazilian.
- ``extract_email(text)``, ``extract_phone(text)``: first one or ``""``.
- ``extract_name(folded)``, ``extract_company(folded)``: ``(value, span)`` or ``("", None)``.
- ``extract_budget(folded)``: ``(text, amount, span)`` or ``("", 0.0, None)``.
- ``extract_timeframe(folded)``: ``(code, urgent, span)`` with ``code`` in :data:`TIMEFRAMES`.
- ``extract_quantity(folded)``: ``(n, span)`` or ``(0, None)``.
- ``match_catalog(folded, catalog)``: ``[(id, name, span)]`` in order of appearance.
- ``extract_interest(folded)``: ``(text, span)`` from the built-in product lexicon and
  phrases such as "interesse no X", "quero um X", "preço do X".
"""

import re
from functools import lru_cache

from .emails import find_emails
from .phone import normalize_phone
from .rules_text import compile_terms, fold, rx, tokens

TIMEFRAMES = ("today", "tomorrow", "this_week", "next_week", "this_month", "next_month", "later")

# ---------------------------------------------------------------- contacts

_PHONE_CANDIDATE = re.compile(r"(?<![\w@.,/$])(\+\s?)?(\(?\d[\d\s().\-]{6,24}\d)(?![\w@%])")
_CPF_SHAPE = re.compile(r"^\d{3}\.\d{3}\.\d{3}-?\d{2}$|^\d{2}\.\d{3}\.\d{3}/\d{4}-\d{2}$")
_CPF_BEFORE = re.compile(
    r"(?:cpf|cnpj|rg|cep|pedido|protocolo|order|cart[aã]o|card|conta)\s*(?:n[º°o.]?\s*)?[:#]?\s*$", re.I
)
_ARROBA = re.compile(r"\s*(?:\barroba\b|\(at\)|\[at\])\s*", re.I)


def find_phones(text, unique=True):
    """Phone numbers in free text as ``[(e164, (start, end))]`` (original positions).

    With ``unique=False`` every occurrence is listed, also repeats of the same number.
    """
    found = []
    text = text or ""
    for match in _PHONE_CANDIDATE.finditer(text):
        plus, body = match.group(1), match.group(2)
        digits = re.sub(r"\D", "", body)
        if not 8 <= len(digits) <= 15:
            continue
        if _CPF_SHAPE.match(body.strip()) or _CPF_BEFORE.search(text[max(0, match.start() - 20) : match.start()]):
            continue
        if plus:
            number = normalize_phone("+" + digits)
        elif digits.startswith("00"):
            number = normalize_phone("+" + digits[2:])
        else:
            number = normalize_phone(digits, "BR")
            if not number.startswith("+55"):
                continue  # bare digits are Brazilian or nothing (a CPF is not a US phone)
            if len(digits) >= 12 and not digits.startswith("55"):
                continue
        if number and (not unique or number not in [f[0] for f in found]):
            found.append((number, match.span()))
    return found


def extract_phone(text):
    phones = find_phones(text)
    return phones[0][0] if phones else ""


def extract_email(text):
    text = text or ""
    emails = find_emails(text)
    if not emails and _ARROBA.search(text):
        emails = find_emails(_ARROBA.sub("@", text))
    return emails[0] if emails else ""


# ---------------------------------------------------------------- name and company

# Words that follow "sou"/"aqui é" but are not names.
NOT_NAME = set(
    fold(
        """
    a o os as um uma uns umas de da do das dos e que q eu me meu minha seu sua voce vc cliente clientes
    fornecedor fornecedora representante corretor corretora parceiro parceira interessado interessada dono dona
    gerente diretor diretora proprietario arquiteto arquiteta medico medica dentista advogado advogada
    engenheiro engenheira professor professora estudante aluno aluna mae pai pcd de daqui aqui novo nova nova
    antigo antiga muito bem so mesmo apenas aposentado aposentada autonomo autonoma empresario empresaria
    vendedor vendedora comprador compradora casado casada solteiro solteira moradora morador vizinho vizinha
    responsavel funcionario funcionaria paciente tutor tutora sindico sindica prefeitura empresa loja interested
    relocating looking from the a an not just here writing calling contacting sorry trying new ready sure glad
    happy going planning wondering quero gostaria queria tenho tava estava to estou vou preciso agendar marcar
    comprar saber ver falar com pra para por sem sobre no na nos nas em ha ja ai la oi ola bom boa dia tarde
    noite tudo obrigado obrigada
    """
    ).split()
)

FIRST_NAMES = set(
    fold(
        """
    ana maria joao jose pedro paulo lucas mateus gabriel rafael daniel marcos marcelo carlos eduardo felipe
    bruno diego gustavo rodrigo ricardo fernando andre antonio francisco luiz luis jorge sergio roberto fabio
    leonardo thiago tiago vinicius henrique igor caio renato rogerio alexandre leandro julio cesar otavio
    mauricio murilo arthur artur enzo miguel davi heitor bernardo samuel guilherme victor vitor hugo raul
    joaquim manoel manuel sebastiao wagner wesley william willian jefferson everton anderson adriano alan allan
    cristiano edson emerson fabricio flavio gilberto helio juliana julia juliano patricia fernanda carla camila
    beatriz bianca bruna larissa leticia mariana renata aline amanda jessica vanessa vanesa adriana andreia
    andrea claudia cristina daniela debora denise eliane elaine fabiana flavia gabriela isabela isabel jaqueline
    karina kelly luana luciana marcia michele monica natalia priscila raquel rosana sandra silvia simone sonia
    tatiane vera viviane paula carol carolina helena laura alice sofia sophia valentina livia lorena manuela
    cecilia clara rebeca sara sarah tereza teresa regina rita lucia lucimara joana joice jussara rosangela john
    james robert michael david richard thomas charles mary jennifer linda elizabeth susan jessica emily emma
    olivia
    """
    ).split()
)

_NAME_TRIGGER = rx(
    r"(?<![a-z0-9])(?:(?P<strong>meu nome (?:e|eh|é)|me chamo|my name is|nome:|name:)\s+|"
    r"(?P<medium>aqui (?:e|eh|quem fala e|quem fala eh) (?:o|a)|quem fala (?:e|eh) (?:o|a)|eu sou (?:o|a)|sou (?:o|"
    r"a)|falo com (?:o|a)|fala (?:o|a))\s+|"
    r"(?P<weak>aqui (?:e|eh)|quem fala (?:e|eh)|eu sou|sou|i'm|i am|this is|it's|its|falar com|tratar com)\s+)",
    words=False,
)
_NAME_PARTICLES = {"da", "de", "do", "dos", "das"}
_NAME_STOP_AFTER = set(fold("empresa loja clinica escola grupo imobiliaria construtora cidade zona bairro rua").split())


def _is_capitalised(word):
    return bool(word) and word[0].isupper()


def _mixed_case(text):
    letters = [c for c in text if c.isalpha()]
    return any(c.isupper() for c in letters) and any(c.islower() for c in letters)


def _pretty_name(words):
    out = []
    for w in words:
        if w.lower() in _NAME_PARTICLES:
            out.append(w.lower())
        elif w.isupper() or w.islower():
            out.append(w[:1].upper() + w[1:].lower())
        else:
            out.append(w)
    return " ".join(out)


def _original_words(folded, start):
    """Original words after folded position ``start``: ``[(word, folded_token, fstart, fend)]``."""
    out = []
    for match in re.finditer(r"[a-z][a-z'-]*|[^a-z\s]", folded.text[start:]):
        tok = match.group()
        fstart, fend = start + match.start(), start + match.end()
        if not tok[0].isalpha():
            out.append((tok, tok, fstart, fend))
            if len(out) > 8:
                break
            continue
        out.append((folded.quote(fstart, fend), tok, fstart, fend))
        if len(out) > 8:
            break
    return out


def extract_name(folded):
    """The customer's own name, or ``("", None)``."""
    mixed = _mixed_case(folded.original)
    for match in _NAME_TRIGGER.finditer(folded.text):
        strength = "strong" if match.group("strong") else "medium" if match.group("medium") else "weak"
        words = _original_words(folded, match.end())
        picked = []
        for i, (word, tok, fstart, fend) in enumerate(words):
            if not tok[0].isalpha():
                break
            if tok in _NAME_PARTICLES and picked:
                nxt = words[i + 1] if i + 1 < len(words) else None
                if nxt and nxt[1][0].isalpha() and nxt[1] not in _NAME_STOP_AFTER and nxt[1] not in NOT_NAME:
                    if (mixed and _is_capitalised(nxt[0])) or not mixed:
                        picked.append((word, tok, fstart, fend))
                        continue
                break
            if tok in NOT_NAME or len(tok) < 2 or len(picked) >= 4:
                break
            if picked and mixed and not _is_capitalised(word):
                break
            if not picked:
                if strength != "strong" and mixed and not _is_capitalised(word) and tok not in FIRST_NAMES:
                    break
                if strength == "weak" and not (
                    tok in FIRST_NAMES or (mixed and _is_capitalised(word) and not word.isupper())
                ):
                    break
                if (
                    strength == "weak"
                    and match.group().strip().startswith(("falar", "tratar"))
                    and tok not in FIRST_NAMES
                ):
                    break
            elif not mixed and strength != "strong" and tok not in FIRST_NAMES and len(picked) >= 2:
                break
            picked.append((word, tok, fstart, fend))
        while picked and picked[-1][1] in _NAME_PARTICLES:
            picked.pop()
        if not mixed and strength != "strong":
            # All lower/upper case: a second word is kept only when it looks like a name.
            keep = picked[:1]
            for p in picked[1:]:
                if p[1] in FIRST_NAMES or p[1] in _NAME_PARTICLES:
                    keep.append(p)
                else:
                    break
            picked = keep
        if picked:
            return _pretty_name([p[0] for p in picked]), (picked[0][2], picked[-1][3])
    return "", None


_COMPANY_TRIGGER = rx(
    r"(?:da|na|pela|para a|pra) empresa|empresa|(?:da|na) (?:loja|clinica|imobiliaria|construtora|escola|agencia|"
    r"concessionaria|farmacia|oficina)|trabalho (?:na|no|pela|pelo)(?: empresa)?|represento (?:a|o)(?: empresa)?|"
    r"representante (?:da|do)|(?:sou|somos|falo|aqui e|aqui eh) (?:da|do)|from|at|work (?:at|for)",
)
_COMPANY_STOP = set(
    fold(
        """
    e que q de do da para pra com sem em no na nos nas gostaria queremos quero precisamos preciso somos sou
    temos tenho estamos estou venho vim e and we i to is are for with the of um uma o a os as ha aqui ai la
    voces vcs zona bairro cidade centro regiao interior capital sul norte leste oeste
    """
    ).split()
)
_COMPANY_SUFFIX = set(fold("ltda ltda. me eireli sa s.a. s/a inc llc corp cia & co").split())


def extract_company(folded):
    """Company the customer speaks for ("da empresa X", "trabalho na X"), or ``("", None)``."""
    mixed = _mixed_case(folded.original)
    for match in _COMPANY_TRIGGER.finditer(folded.text):
        explicit = "empresa" in match.group() or "represent" in match.group()
        words = _original_words(folded, match.end())
        picked = []
        for i, (word, tok, fstart, fend) in enumerate(words):
            if not tok[0].isalnum():
                if tok == "&" and picked:
                    picked.append((word, tok, fstart, fend))
                    continue
                break
            if tok in _COMPANY_SUFFIX and picked:
                picked.append((word, tok, fstart, fend))
                continue
            if picked and tok in {"de", "da", "do"} and i + 1 < len(words):
                nxt = words[i + 1]
                if mixed and _is_capitalised(nxt[0]) and nxt[1] not in _COMPANY_STOP:
                    picked.append((word, tok, fstart, fend))
                    continue
                break
            if tok in _COMPANY_STOP or tok in NOT_NAME or len(picked) >= 4:
                break
            if mixed and not (_is_capitalised(word) or any(c.isdigit() for c in word)):
                break
            if not mixed and not explicit:
                break
            picked.append((word, tok, fstart, fend))
        while picked and picked[-1][1] in {"de", "da", "do", "&"}:
            picked.pop()
        if picked and not (len(picked) == 1 and picked[0][1] in FIRST_NAMES and not explicit):
            value = " ".join(p[0] for p in picked)
            if not mixed:
                value = value.upper() if len(value) <= 4 else value.title()
            return value.strip(" .,"), (picked[0][2], picked[-1][3])
    return "", None


# ---------------------------------------------------------------- budget, timeframe, quantity

_NUMBER = r"\d{1,3}(?:[.,]\d{3})+(?:[.,]\d{1,2})?|\d+(?:[.,]\d+)?"
_MULT = r"mil|k|mi|milhao|milhoes|million|thousand|grand"
_BUDGET_PATTERNS = (
    # Trigger word + amount: "até 50 mil", "orçamento de 10k", "budget of $5k", "tenho uns 800 mil".
    rx(
        rf"(?P<trig>ate|orcamento (?:de|d)(?: ate)?|orcamento|budget(?: of| is)?|verba de|tenho|temos|disponho de|"
        rf"entrada de|"
        rf"credito (?:aprovado )?de|aprovado de|up to|max(?:imo)?|around|about|uns|umas|cerca de|em torno de|"
        rf"no maximo|ate uns)\s+"
        rf"(?:de\s+|uns\s+|umas\s+|r\$\s*|\$\s*|us\$\s*)*(?P<num>{_NUMBER})\s*(?P<mult>{_MULT})?(?P<cur>\s*(?:reais|"
        rf"conto|contos|pila|dolares|dollars))?",
        words=True,
    ),
    # Currency: "R$ 2.000", "$5k", "3 mil reais".
    rx(rf"(?P<cur0>r\$|rs|us\$|\$|brl|usd)\s*(?P<num>{_NUMBER})\s*(?P<mult>{_MULT})?", words=False),
    rx(rf"(?P<num>{_NUMBER})\s*(?P<mult>{_MULT})?\s*(?P<cur>reais|conto|contos|pila|dolares|dollars)", words=True),
    rx(
        rf"(?P<num>{_NUMBER})\s*(?P<mult>mil|k|mi|milhao|milhoes)(?! km| quilometros| seguidores| pessoas| unidades|"
        rf" alunos)",
        words=True,
    ),
)


def _parse_amount(num, mult):
    num = num.strip()
    if "," in num and "." in num:
        decimal = "," if num.rfind(",") > num.rfind(".") else "."
        thousands = "." if decimal == "," else ","
        num = num.replace(thousands, "").replace(decimal, ".")
    elif "," in num or "." in num:
        sep = "," if "," in num else "."
        head, _, tail = num.rpartition(sep)
        if len(tail) == 3 and num.count(sep) >= 1:
            num = num.replace(sep, "")
        else:
            num = head.replace(sep, "") + "." + tail
    try:
        value = float(num)
    except ValueError:
        return 0.0
    mult = (mult or "").strip()
    if mult in ("mil", "k", "thousand", "grand"):
        value *= 1000
    elif mult in ("mi", "milhao", "milhoes", "million"):
        value *= 1_000_000
    return value


def extract_budget(folded):
    """``(as written, amount, span)`` of the budget the customer states, or ``("", 0.0, None)``."""
    for i, pattern in enumerate(_BUDGET_PATTERNS):
        for match in pattern.finditer(folded.text):
            groups = match.groupdict()
            mult = groups.get("mult")
            has_currency = bool(groups.get("cur") or groups.get("cur0"))
            if i == 0 and not (mult or has_currency):
                # "tenho 3 aparelhos", "até dia 30": a bare number after a trigger counts only when it
                # looks like money and is not followed by a unit word.
                after = folded.text[match.end() : match.end() + 12]
                if re.match(r"\s*[a-z]", after) and not re.match(r"\s*(?:por mes|/mes|mensais|a vista)", after):
                    continue
                if groups["trig"] in ("tenho", "temos", "uns", "umas", "around", "about") and not has_currency:
                    continue
                if _parse_amount(groups["num"], None) < 100:
                    continue
            amount = _parse_amount(groups["num"], mult)
            if amount <= 0 or (i > 0 and amount < 10 and not mult):
                continue
            start, end = match.span()
            return folded.quote(start, end), amount, (start, end)
    return "", 0.0, None


_TIMEFRAME_PATTERNS = (
    (
        "today",
        True,
        r"hoje|hj|agora|agr|ainda hoje|hoje mesmo|today|tonight|right now|now|pra ja|o quanto antes|asap|urgente\w*|"
        r"urgent|ultimo dia",
    ),
    ("tomorrow", True, r"amanha|amanhan|amnh|tomorrow"),
    ("this_week", True, r"(?:ainda )?(?:essa|esta|nesta|nessa) semana|this week|ate o fim da semana"),
    ("next_week", False, r"semana que vem|proxima semana|semana seguinte|next week"),
    (
        "this_week",
        False,
        r"(?:na |nesta |nessa |essa |esta |this |on )?(?:segunda|terca|quarta|quinta|sexta|sabado|"
        r"domingo)(?:[ -]feira)?|"
        r"fim de semana|final de semana|fds|monday|tuesday|wednesday|thursday|friday|saturday|sunday|weekend",
    ),
    ("this_month", False, r"(?:esse|este|neste|nesse) mes|this month|ate (?:o )?dia \d{1,2}|fim do mes|final do mes"),
    ("next_month", False, r"mes que vem|proximo mes|next month|daqui a um mes|em um mes|em 30 dias"),
    (
        "later",
        False,
        r"ano que vem|proximo ano|next year|daqui a \d+ meses|em \d+ meses|mais pra frente|futuramente|no futuro|"
        r"um dia",
    ),
)
_TIMEFRAME_RX = tuple((code, urgent, rx(p)) for code, urgent, p in _TIMEFRAME_PATTERNS)


def extract_timeframe(folded):
    """``(code, urgent, span)`` of the nearest timeframe stated, or ``("", False, None)``."""
    for code, urgent, pattern in _TIMEFRAME_RX:
        match = pattern.search(folded.text)
        if match:
            return code, urgent, match.span()
    return "", False, None


_QUANTITY = rx(
    r"(?P<n>\d{1,5})\s+(?:unidades?|un|pares?|pecas?|caixas?|kits?|linhas?|funcionarios?|colaboradores?|vidas?|alunos?|"
    r"aparelhos?|cadeiras?|carros?|veiculos?|maquinas?|computadores?|notebooks?|licencas?|usuarios?|lotes?|units?|"
    r"pairs?|pieces?|"
    r"employees?|seats?|[a-z]+ (?:pra|para) (?:frota|revenda|empresa))"
)
_FLEET = rx(r"(?P<n>\d{1,4})\s+[a-z0-9-]+\s+(?:pra|para)\s+(?:frota|revenda|a empresa|empresa)")


def extract_quantity(folded):
    """``(n, span)`` of a purchase quantity ("10 unidades", "2 pares"), or ``(0, None)``."""
    for pattern in (_QUANTITY, _FLEET):
        match = pattern.search(folded.text)
        if match:
            n = int(match.group("n"))
            if 2 <= n <= 100000:
                return n, match.span()
    return 0, None


# ---------------------------------------------------------------- catalog and interest


@lru_cache(maxsize=64)
def _catalog_patterns(items):
    compiled = []
    for item_id, name, keywords in items:
        pattern = compile_terms([name, *keywords])
        if pattern is not None:
            compiled.append((item_id, name, pattern))
    return tuple(compiled)


def _catalog_key(catalog):
    key = []
    for item in catalog or ():
        if not isinstance(item, dict):
            continue
        name = str(item.get("name") or "").strip()
        keywords = item.get("keywords") or ()
        if isinstance(keywords, str):
            keywords = re.split(r"[,;\n]", keywords)
        keywords = tuple(str(k).strip() for k in keywords if str(k).strip())
        if name or keywords:
            key.append((item.get("id"), name, keywords))
    return tuple(key)


def match_catalog(folded, catalog):
    """Catalog items named in the message: ``[(id, name, span)]`` in order of appearance."""
    hits = []
    for item_id, name, pattern in _catalog_patterns(_catalog_key(catalog)):
        match = pattern.search(folded.text)
        if match:
            hits.append((match.start(), item_id, name, match.span()))
    hits.sort(key=lambda h: h[0])
    seen = set()
    out = []
    for _pos, item_id, name, span in hits:
        if item_id not in seen:
            seen.add(item_id)
            out.append((item_id, name, span))
    return out


# Built-in vocabulary of what Brazilian customers ask about (heads of product phrases).
# Specific heads (models, named services) rank above generic ones (carro, imóvel).
_SPECIFIC_HEADS = """
onix|onix plus|hb20|hb20s|hb 20|corolla|corolla cross|compass|t-cross|tcross|t cross|hilux|hilux sw4|sw4|
renegade|commander|tracker|strada|argo|mobi|kwid|polo|polo track|virtus|nivus|taos|tiguan|toro|gol|voyage|
saveiro|civic|hr-v|hrv|wr-v|creta|tucson|kicks|versa|sentra|frontier|ranger|s10|spin|cruze|montana|fastback|
pulse|cronos|uno|palio|fiorino|duster|sandero|logan|oroch|208|2008|c3|c4 cactus|jeep|ecosport|fiesta|yaris|
etios|rav4|outlander|l200|pajero|golf|jetta|amarok|t-roc|haval|dolphin|byd|bmw|audi|mercedes|hb20x|apartamento|
apto|apartamentos|ap|ape|kitnet|kitinete|quitinete|studio|estudio|loft|cobertura|casa|sobrado|terreno|lote|
chacara|sitio|fazenda|sala comercial|galpao|loja comercial|ponto comercial|flat|lancamento|casa em condominio|
imovel na planta|clareamento|clareamento dental|implante|implantes|implante dentario|botox|toxina botulinica|
harmonizacao|harmonizacao facial|preenchimento|preenchimento labial|bioestimulador|lente de contato dental|
lentes de contato dental|faceta|facetas|aparelho ortodontico|aparelho|alinhador|invisalign|tratamento de canal|
limpeza de pele|limpeza|extracao|siso|depilacao a laser|depilacao|laser|lipo|lipo de papada|lipoaspiracao|
drenagem linfatica|drenagem|massagem|peeling|microagulhamento|sobrancelha|design de sobrancelha|
micropigmentacao|cilios|extensao de cilios|unha|manicure|corte de cabelo|escova|progressiva|luzes|mechas|
tratamento de emagrecimento|emagrecimento|nutricionista|psicologo|psicologa|fisioterapia|pilates|dermatologista|
pediatra|ginecologista|oftalmologista|cardiologista|ortopedista|dentista|exame de vista|check-up|checkup|
consulta|avaliacao|protese|dentadura|iphone|iphones|galaxy|samsung|xiaomi|redmi|motorola|moto g|moto e|poco|
ipad|macbook|notebook|notebooks|celular|smartphone|smart tv|televisao|ps5|ps5 slim|playstation|xbox|
nintendo switch|airpods|fone|fones|fone de ouvido|jbl|caixa de som|tenis|tenis da nike|nike|adidas|adidas samba|
air max|nike air max|air force|jordan|vans|all star|olympikus|mizuno|chinelo|sandalia|vestido|camisa|
camiseta|calca|jaqueta|blusa|bolsa|mochila|relogio|oculos|perfume|sofa|sofa retratil|sofa cinza|poltrona|
mesa de jantar|cadeira|cadeiras|cadeira gamer|cadeiras de escritorio|cadeira de escritorio|colchao|
colchao king size|cama box|guarda-roupa|guarda roupa|roupeiro|armario|rack|estante|escrivaninha|
moveis planejados|cozinha planejada|geladeira|geladeira frost free|fogao|micro-ondas|microondas|
maquina de lavar|lava e seca|ar condicionado|ar-condicionado|ventilador|capinha|pelicula|carregador|encanador|
eletricista|chaveiro|pedreiro|pintor|pintura|marido de aluguel|desentupimento|desentupir|desentupidora|
dedetizacao|limpeza pos-obra|limpeza pos obra|diarista|faxina|mudanca|carreto|instalacao|
instalacao de ar condicionado|manutencao|manutencao de piscina|conserto|reparo|assistencia|internet|fibra|
fibra otica|plano de internet|banda larga|plano empresarial|plano de saude|plano de saude empresarial|
plano odontologico|seguro|seguro auto|seguro de vida|seguro residencial|seguro viagem|
camera de seguranca|cameras de seguranca|alarme|portao eletronico|chuveiro|aquecedor|energia solar|
placa solar|placas solares|painel solar|paineis solares|
advogado|despachante|revisao|troca de oleo|funilaria|alinhamento|pneu|pneus|curso|cursos|
curso de ingles|curso de espanhol|ingles|espanhol|frances|alemao|italiano|portugues|aula|aulas|aula de reforco|
reforco|aula de violao|violao|guitarra|piano|danca|ballet|natacao|musculacao|crossfit|pos|
pos-graduacao|pos graduacao|mba|mestrado|graduacao|faculdade|vestibular|enem|supletivo|eja|curso tecnico|
matricula|1o ano|2o ano|3o ano|fundamental|fundamental 1|fundamental 2|ensino medio|educacao infantil|bercario|
creche|periodo integral|intercambio|excel|programacao|marketing digital|barbeiro|auto cad|autocad|enfermagem|
medicina|psicologia|administracao|car|cars|electric car|electric cars|suv|apartment|house|condo|sofa|
leather sofa|plumber|electrician|locksmith|house cleaning|cleaning|dental cleaning|teeth whitening|whitening|
implant|course|portuguese course|english course|classes|mba|insurance|
""".replace("\n", "")

_SPECIFIC_HEADS += """
racao|hotel pet|hotelzinho|creche pet|banho e tosa|tosa|veterinario|veterinaria|vacina|vacinacao|castracao|
petisco|coleira|unha|unhas|unhas de gel|alongamento de unhas|tatuagem|tattoo|piercing|maquiagem|skin care|
pizza|hamburguer|lanche|marmita|marmitex|bolo|torta|acai|sushi|esfiha|salgados|docinhos|cesta de cafe|
buffet|decoracao de festa|fotografo|fotografia|filmagem|salao de festas|
porcelanato|piso|revestimento|azulejo|cimento|tijolo|tinta|telha|cacamba|drywall|gesso|vidro|box de banheiro|
divorcio|divorcio consensual|inventario|usucapiao|pensao alimenticia|processo trabalhista|abertura de empresa|
imposto de renda|declaracao de imposto de renda|
abrir empresa|abrir uma empresa|abrir minha empresa|abrir mei|abrir um mei|abrir cnpj|abrir um cnpj|
pacote de viagem|passagem|passagens|pousada|cruzeiro|hospedagem|
cardiologia|dermatologia|ginecologia|ortopedia|pediatria|oftalmologia|psiquiatria|endocrinologia|neurologia|
urologia|otorrino|otorrinolaringologia|fonoaudiologia|ultrassom|raio-x|ressonancia|tomografia|
guincho|reboque|bateria|oleo|escapamento|embreagem|freio|freios|suspensao|
lava-loucas|lava loucas|lavadora|secadora|freezer|cooktop|forno|air fryer|liquidificador|aspirador|
troca de tela|trocar a tela|troca de bateria|
maternal|jardim|pre-escola|pre escola|berçario|
bag|handbag|leather bag|backpack|shoes|sneakers|
""".replace("\n", "")

# Words about paying, renting or the business itself ("consórcio", "aluguel", "academia"): the interest only
# when nothing else is named. Shipping and daily rates ("frete", "diária") never are, unless hired ("vcs fazem frete?").
_WEAK_HEADS = """
consorcio|academia|contabilidade|contador|kit|aluguel|locacao|
""".replace("\n", "")

_GENERIC_HEADS = """
carro|carros|veiculo|veiculos|seminovo|seminovos|usado|usados|0km|zero km|moto|motos|suv|picape|pickup|sedan|
hatch|imovel|imoveis|propriedade|produto|produtos|servico|servicos|modelo|modelos|peca|pecas|roupa|roupas|movel|
moveis|
""".replace("\n", "")

# Service words that say little on their own ("consulta", "aula"): used when nothing more specific is named.
_BROAD_HEADS = """
consulta|consultas|avaliacao|aula|aulas|curso|cursos|plano|planos|servico|matricula|exame|exames|instalacao|
manutencao|conserto|reparo|assistencia|limpeza|pos|periodo integral|bolsa|tratamento|procedimento|sessao|
sessoes|pacote|
""".replace("\n", "")

_BROAD_SET = set(_BROAD_HEADS.split("|"))


def _with_plurals(heads):
    """Heads and their plural ("sofa" -> "sofas", "colchao" -> "colchoes", "pneu" -> "pneus")."""
    out = []
    for head in heads:
        out.append(head)
        if head.startswith("re:") or " " in head or "-" in head or any(c.isdigit() for c in head) or len(head) < 4:
            continue
        if head.endswith("ao"):
            out.append(head[:-2] + "oes")
        elif head.endswith(("r", "z")):
            out.append(head + "es")
        elif head.endswith("l"):
            out.append(head[:-1] + "is")
        elif head[-1] in "aeiou":
            out.append(head + "s")
    return out


_SPECIFIC = compile_terms(_with_plurals(h for h in _SPECIFIC_HEADS.split("|") if h and h not in _BROAD_SET))
_BROAD = compile_terms([h for h in _BROAD_HEADS.split("|") if h])
_WEAK = compile_terms([h for h in _WEAK_HEADS.split("|") if h])
_GENERIC = compile_terms([h for h in _GENERIC_HEADS.split("|") if h])
# Brand and model written as letters and digits: "CG 160", "XRE 300", "A54", "RTX 4060" (not "aro 14",
# "dia 15", "em 12x", "apto 42": units, dates, counts and addresses).
_MODEL_NOT = set(
    fold(
        """
    a o e as os um uma uns de do da dos das em no na nos nas ao aos com sem por pra pro pras pros ate sao dia
    dias ano anos mes hora aro kg km mil h hs r rs us x n nr num ap apto casa lote sala rua av cep cpf cnpj tel
    cel fone zap pix seg ter qua qui sex sab dom nota fase mod cod loja top tem sou vou so ja mais que q pq ou
    ha faz to ta br sp rj mg ddd cx un und m cm mm l ml mb gb tb w v cv gen ver pago paga tam vaga bloco quadra
    para as lj ref por pg pag cap item lote uns fim meio faixa tipo nivel ate sala vez dar ter ser ir ver vir fui
    foi era vai dou fiz deu dei quer sei sai fica pode nem cada mas bem tb tbm vc vcs ele ela eu meu seu sua dos
    pelo pela umas cai sobe hj amnh ai tudo todo toda lá la
    """
    ).split()
)
_MODEL = re.compile(
    r"(?<![a-z0-9$])([a-z]{1,4})[ -]?(?!(?:19|20)\d\d(?!\d))\d{2,4}[a-z]{0,2}(?![a-z0-9/%]|[.,]\d)"
    r"(?! ?(?:mil|k|reais|anos|meses|dias|km|vezes|pessoas|unidades|horas|min|minutos)(?![a-z]))"
)
# "carro" folds to "caro" (expensive): such heads must have their double letter in the original.
_NEEDS_DOUBLE = {"caro": "rr", "caros": "rr"}

# Tokens that may follow a head and belong to it ("iphone 15 pro max", "apartamento de 2 quartos").
_TAIL = rx(
    r"(?:\s+(?:(?:(?:de |com |em )?\d+ (?:quartos?|dorm\w*|suites?|vagas?|lugares|portas|m2|metros)|quartos?|"
    r"dormitorios?|suites?|\d{1,3}x\d{1,3}|\d{1,4}(?:gb|tb|mp|w|cv|m2|mm|pol|ah)?|[a-z]?\d{1,3}[a-z]{0,3}|"
    r"pro(?! (?!max|plus)[a-z])|max|plus|ultra|mini|lite|note|anual|mensal|semestral|trimestral|familia|"
    r"individual|de casal|de solteiro|"
    # an adjective that narrows the head: "piso vinílico", "porcelanato acetinado", "colchão ortopédico"
    r"(?!parcelad|financiad|entregue|instalad|usad|comprad|disponiv|possiv|acessiv)[a-z]{3,}(?:ico|ica|icos|icas|ado|ada|ados|adas|avel|ivel)|"
    r"slim|fe|air|sedan|hatch|cross|"
    r"track|xei|xe|gli|altis|hibrido|hybrid|flex|turbo|tsi|comfortline|highline|trendline|automatica|automatico|"
    r"manual|diesel|"
    r"sport|limited|longitude|premier|ltz|lt|ls|king|queen|size|frost|free|retratil|reclinavel|gamer|casal|solteiro|"
    r"box|"
    r"eletrico|eletrica|eletricos|usada|usado|seminova|seminovo|dental|facial|labial|linfatica|ortodontico|a laser|"
    r"pos-obra|"
    r"(?:de|com|em) \d+ (?:quartos?|dorm\w*|suites?|vagas?|lugares|portas|m2|metros)|\d+ (?:quartos?|dorm\w*|suites?|"
    r"lugares|portas)|"
    r"de (?:ingles|espanhol|frances|alemao|italiano|portugues|excel|programacao|enfermagem|barbeiro|marketing digital|"
    r"auto cad|autocad|violao|guitarra|piano|canto|reforco|vida|saude|saude empresarial|pele|papada|jantar|"
    r"escritorio|seguranca|"
    r"piscina|ar condicionado|maquina de lavar|cabelo|emagrecimento|canal|contato dental|sobrancelha|vista|"
    r"\d+ (?:mega|giga))|"
    r"em (?:gestao de projetos|[a-z]+)|mobiliado|mobiliada|comercial|empresarial|residencial|auto|"
    r"da (?:nike|adidas|apple|samsung)|(?:do|da) \d+|\d+ (?:mega|giga|mb|gb)|"
    r"(?:de|da|do|em|no|na) (?:condominio|[a-z]+ (?:fechado|tijuca))))(?![a-z0-9])){0,5}",
    words=False,
)
_HEAD_AFTER_NUMBER = rx(r"(?:\d+[- ]?(?:bedroom|bed|quartos?|dorm\w*))\s+$", words=False)
_LEFT_ADJ = rx(r"(?:leather|electric|portuguese|english|spanish|dental|used|new|gaming)\s+$", words=False)
_POSSESSIVE = rx(
    r"(?:meu|minha|meus|minhas|my|nosso|nossa|o meu|a minha|pro meu|pra minha|de casa|em casa|dentro de|sem sair de|"
    r"na minha|no meu)\s+$",
    words=False,
)

_INTEREST_PHRASES = rx(
    r"(?:interesse|interese|interessad[oa]|interested)\s+(?:no|na|nos|nas|em|pelo|pela|in|in the|in a)\s+|"
    r"(?:valor|preco|precos|quanto custa|quanto e|quanto ta|quanto esta|qto ta|qto e|qual o valor|qual o preco|"
    r"how much is|price of)\s+(?:do|da|dos|das|de|o|a|the)?\s*|"
    r"(?:quero|queria|gostaria de|preciso de|procuro|procurando|vcs tem|voces tem|tem)\s+(?:um|uma|o|a|uns|umas)\s+|"
    r"(?:precisando de|necessito de|necesito)\s+(?:um|uma|o|a|un|una)?\s*|"
    r"(?:orcamento|orcamentos|cotacao|quote|estimate)\s+(?:de|do|da|dos|das|pra|para|pro|for)\s+(?:um|uma|o|a|the|a)?\s*|"
    r"(?:pacote|paquete|viagem|viaje|passagem|passagens|package|trip)\s+(?:de viagem\s+)?(?:para|pra|pro|a|to)\s+|"
    r"(?:sobre|about)\s+(?:o|a|os|as|the)?\s*",
    words=True,
)
# The object of a verb of doing or booking: "fazer minha tatuagem", "agendar banho e tosa", "marcar limpeza".
_VERB_OBJECT = rx(
    r"(?:fazer|faco|agendar|agenda|marcar|contratar|reservar|agendo|marco|"
    r"(?:vcs|voces|vc) (?:fazem|faz|alugam|aluga|instalam|instala)|book|schedule)\s+"
    r"(?:(?:um|uma|o|a|os|as|uns|umas|un|una|minha|meu|minhas|meus|an|the|my)\s+)?",
    words=True,
)
# "vc é a Carla da academia", "aqui é o Roberto da contabilidade": the business, not an interest.
_PERSON_OF = rx(r"(?<![a-z0-9])(?:e|eh|sou|aqui e|fala|falo com) (?:a|o) [a-z]+ (?:da|do|de) $", words=False)
# Words after which the next one is a unit or a fee, not the thing: "preço do m² do porcelanato".
_UNIT_FIRST = set(
    fold(
        """
    m2 metro metros metro quadrado diaria diarias saco sacos frete entrega shipping delivery taxa taxas mensalidade
    parcela parcelas entrada aluguel locacao semana mes hora kg quilo litro unidade kit caixa duzia fardo
    pote rolo saca par
    """
    ).split()
)
_BROAD_THEN = re.compile(r"(?: [a-z]+){0,2} (?:de|do|da|pra|para|pro) (?:(?:o|a|um|uma) )?")
_PHRASE_STOP = set(
    fold(
        """
    e ou que q pra para por com sem de do da dos das no na nos nas em ao a o os as um uma se mas ja ainda hoje
    hj agora amanha nesse neste nessa nesta desse deste dessa desta aquele aquela vcs voces vc voce tem tb
    tambem favor obrigado obrigada pf pfv ai la aqui isso isto esse essa este esta and or for the with to is it
    please of in on at today now
    """
    ).split()
)
_PHRASE_BAD_FIRST = set(
    fold(
        """
    informacao informacoes info orcamento desconto retorno atendente humano pessoa ajuda duvida resposta horario
    consulta visita valor preco saber ver falar mais tudo isso voces vcs voce vc mim ele ela eles gente coisa
    coisas sair parar pare parem stop chega cancelar descadastrar remover bloquear unsubscribe avaliacao
    reuniao pedido reclamacao troca pagamento pix parceria compra reserva cadastro login teste test agendamento
    simulacao cotacao proposta pergunta matricula inscricao horarios vaga hora dia semana isso aqui la negocio
    materia pesquisa entrevista favor financiamento parcelamento entrega credito emprestimo
    table appointment slot meeting call time visit room
    """
    ).split()
)


_SPACE = re.compile(r"\s+")


def _capitalised_next(folded, end):
    """End of a Capitalised word right after ``end`` (a brand: "ração Golden", "notebook Dell"), or ``end``."""
    match = _NEXT_WORD.match(folded.text, end)
    if not match or match.group(1) in _PHRASE_STOP or match.group(1) in _MODEL_NOT:
        return end
    word = folded.quote(*match.span(1))
    original = folded.original
    if word[:1].isupper() and not word.isupper() and any(c.islower() for c in original if c.isalpha()):
        if _MONTHS_DAYS.match(match.group(1)) is None:
            return match.end()
    return end


_NEXT_WORD = re.compile(r"(?: (?:de|do|da))? ([a-z][a-z0-9-]+)")
_MONTHS_DAYS = rx(
    r"(?:janeiro|fevereiro|marco|abril|maio|junho|julho|agosto|setembro|outubro|novembro|dezembro|segunda|terca|"
    r"quarta|quinta|sexta|sabado|domingo|oi|ola|obrigad[oa]|bom|boa|qual|quanto|quando|como|onde|tem|vcs|voces)$",
    words=False,
)


def _extend(folded, start, end):
    for _ in range(4):
        tail = _TAIL.match(folded.text, end)
        if tail and tail.end() > end:
            end = tail.end()
        # Another head right after this one ("tênis adidas samba", "iphone 15 pro max").
        space = _SPACE.match(folded.text, end)
        more = (_SPECIFIC.match(folded.text, space.end()) or _model_at(folded, space.end())) if space else None
        if not more:
            break
        end = more.end()
    end = _capitalised_next(folded, end)
    before = folded.text[:start]
    left = _HEAD_AFTER_NUMBER.search(before) or _LEFT_ADJ.search(before)
    if left:
        start = left.start()
    return start, end


def _skip(folded, match):
    before = folded.text[: match.start()]
    if _POSSESSIVE.search(before) or _PERSON_OF.search(before):
        return True
    if _NOT_A_PRODUCT.match(folded.text, match.start()):
        return True
    double = _NEEDS_DOUBLE.get(match.group())
    return bool(double and double not in folded.quote(*match.span()).lower())


# Heads that name no product in these phrases: "bolsa de estudo" is a scholarship, not a handbag.
_NOT_A_PRODUCT = rx(r"bolsas? (?:de estudos?|integra\w*|parcia\w*|de \d+|\d+ ?%)", words=False)


def _model_at(folded, pos):
    match = _MODEL.match(folded.text, pos)
    if match and match.group(1) not in _MODEL_NOT:
        return match
    return None


def _models(folded):
    for match in _MODEL.finditer(folded.text):
        if match.group(1) not in _MODEL_NOT:
            yield match


def _best_head(folded, *patterns):
    """The first head of ``patterns`` in the text (``"model"`` stands for brand-and-model shapes)."""
    matches = []
    for pattern in patterns:
        found = _models(folded) if pattern == "model" else pattern.finditer(folded.text)
        first = next((m for m in found if not _skip(folded, m)), None)
        if first:
            matches.append(first)
    if not matches:
        return None
    first = min(matches, key=lambda m: (m.start(), -m.end()))
    return _extend(folded, *first.span())


def extract_interest(folded):
    """Product, model or service the customer asks about, ``(text, span)`` or ``("", None)``.

    In order: the first of the object of a verb of doing or booking ("fazer minha tatuagem") and a
    named product, model or service; then a phrase ("interesse no X", "preço do X"), a
    broad service word ("consulta"), a word about paying, shipping or the business ("frete",
    "academia"), a generic word ("carro").
    """
    spans = [s for s in (_verb_object(folded), _best_head(folded, _SPECIFIC, "model")) if s]
    span = min(spans) if spans else None
    if span is None:
        span = _phrase_interest(folded)
    if span is None:
        span = _best_head(folded, _BROAD)
    if span is None:
        span = _best_head(folded, _WEAK)
    if span is None:
        span = _best_head(folded, _GENERIC)
    if span is None:
        return "", None
    text = folded.quote(*span).strip(" ,.;:!?-")
    return text, span


def _verb_object(folded):
    for match in _VERB_OBJECT.finditer(folded.text):
        pos = match.end()
        head = _SPECIFIC.match(folded.text, pos) or _model_at(folded, pos)
        if not head and _BROAD.match(folded.text, pos):
            # "agendar uma aula experimental de violão": the specific thing after a broad word.
            broad = _BROAD.match(folded.text, pos)
            more = _BROAD_THEN.match(folded.text, broad.end())
            head = (more and _SPECIFIC.match(folded.text, more.end())) or broad
        head = head or _WEAK.match(folded.text, pos)
        if head and head.group() not in _PHRASE_BAD_FIRST:
            return _extend(folded, *head.span())
        toks = _phrase_tokens(folded, pos)
        if toks and toks[0][2] not in _PHRASE_BAD_FIRST and not toks[0][2].isdigit() and len(toks[0][2]) > 3:
            if _GENERIC.match(folded.text, pos):
                continue
            return toks[0][0], toks[-1][1]
    return None


def _phrase_tokens(folded, pos):
    toks = []
    for tok_match in re.finditer(r"[a-z0-9][a-z0-9-]*|[^a-z0-9\s]", folded.text[pos:]):
        tok = tok_match.group()
        if not tok[0].isalnum() or tok in _PHRASE_STOP or len(toks) >= 3:
            break
        toks.append((pos + tok_match.start(), pos + tok_match.end(), tok))
    return toks


def _phrase_interest(folded):
    for match in _INTEREST_PHRASES.finditer(folded.text):
        pos = match.end()
        toks = _phrase_tokens(folded, pos)
        if toks and toks[0][2] in _UNIT_FIRST:
            # "preço do m² do porcelanato", "aluguel de caçamba": the thing comes after the unit or fee.
            after = re.compile(r" (de|do|da|dos|das) ").match(folded.text, toks[0][1])
            if not after:
                continue
            toks = _phrase_tokens(folded, after.end())
        if toks and toks[0][2] not in _PHRASE_BAD_FIRST and not toks[0][2].isdigit():
            return toks[0][0], toks[-1][1]
    return None


def interest_tokens(text):
    """Content tokens of an interest text, for comparing two interests."""
    return [t.replace("-", "").replace("'", "") for t in tokens(fold(text)) if t not in _PHRASE_STOP]

"""Signals the rules engine looks for, as regexes over folded text (see ``rules_text``).

Patterns are written in plain Portuguese/English with accents and double
letters; :func:`rules_text.rx` folds them like the text (``preço`` -> ``preco``,
``carro`` -> ``caro``), so the spelling here does not need to match the
customer's. Slang and abbreviations are listed explicitly (``vc``, ``qto``,
``hj``, ``agr``...); misspelt key words are corrected first (:func:`correct_word`).

Each :class:`Signal` has a stable ``name`` (used in ``Classification.signals``
and in business rules, e.g. ``{"field": "signal_names", "operator": "contains",
"value": "urgency"}``) and a Portuguese ``label`` used in the reason. A pattern
given as a list is the alternation of its items.
"""

import re
from dataclasses import dataclass

from .rules_text import fold, rx


def alt(*parts):
    """``(?:a|b|c)`` of the given regex fragments."""
    return "(?:" + "|".join(parts) + ")"


# Shared fragments (folded spelling is applied by rx()).
VC = alt("vc|vcs|voce|voces|ce|ces|vos|voceis|tu")
WANT = alt(
    "quero|qro|qero|kero|qeria|keria|quiero|quisiera|queria|quer|queremos|gostaria(?: muito)? de|gostariamos de|"
    "desejo|pretendo|vou|vamos|to querendo|estou querendo|tava querendo|estava querendo"
)
ARTICLE = alt("um|uma|o|a|os|as|un")
# "levar" is buying ("vou levar", "quero levar o azul") unless someone is taken somewhere ("quero levar ele agora").
LEVAR = r"levar(?! (?:ele|ela|eles|elas|meu|minha|o meu|a minha|o pet|o cachorro|a cachorra|o gato|a gata)(?![a-z]))"
# A sum before a way of paying: "pago 85 mil à vista", "pago R$ 2.000 no pix".
_PAID_SUM = r"(?:(?:r\$ ?)?\d[\d.,]* ?(?:mil|k|reais)? )?"
WEEKDAY = alt("segunda|terca|quarta|quinta|sexta|sabado|domingo")
# Before a purchase verb, words that make a plan of it, not a decision: "estou pensando em trocar de carro".
HEDGE_BEFORE = rx(
    r"(?<![a-z0-9])(?:pensando em|penso em|pensei em|planejando|sonho em|sonhando em|cogitando|quem sabe)\s+"
    r"(?:\w+\s+)?$",
    words=False,
)
NEG_BEFORE = rx(r"(?<![a-z0-9])(?:nao|n|nem|nunca|sem|jamais|not|don't|dont|no)\s+(?:\w+\s+)?$", words=False)


# Opt-out. A keyword alone is an opt-out only as the whole message, give or take punctuation, emojis
# and courtesy ("SAIR", "Pare, por favor 🙏", "STOP!"): inside a sentence these words mean other
# things ("quero sair de casa cedo", "o carro para", "cancelar meu pedido"), and a question mark
# makes a question of them ("Cancelar?"). "tirar"/"excluir" need "me" ("me tira"), as "pode tirar"
# answers about an item. The English ones are the CTIA keywords.
_COURTESY = alt(
    "por favor|porfavor|pfv|pfvr|pf|please|pls|plz|obrigad[oa]|obg|brigad[oa]|grat[oa]|thanks|thank you|thx|"
    "agora|ja|now|ok"
)
_OPT_OUT_WORD = alt(
    "sair|parar|pare|parem|para|chega|stop|stop all|stopall",
    "descadastrar|descadastra|descadastre|descadastro|remover|cancelar|cancelar envios?|bloquear",
    "(?:pode |podem )?me (?:tirar|tira|tire|remover|remove|remova|excluir|exclui|exclua|descadastrar|descadastra)",
    "unsubscribe|opt out|optout|opt-out|cancel|end|quit|revoke",
)
OPT_OUT_BARE = rf"^[^\w?]*(?:{_COURTESY}[^\w?]+)*{_OPT_OUT_WORD}(?:[^\w?]+{_COURTESY})*[^\w?]*$"
_REMOVE = alt("tirar|tira|tire|tirem|remover|remove|remova|removam|excluir|exclui|exclua")
# What the customer no longer wants to receive ("não quero mais mensagens", "chega de propaganda").
OPT_OUT_WHAT = alt(r"mensage\w*|msgs?|promoc\w*|propaganda\w*|ofertas|notificac\w*|spam|contato")
# Words just before an opt-out phrase that turn it round: "não quero sair da lista", "não me tire",
# "não quero que parem de me mandar", "I don't want to unsubscribe".
OPT_OUT_NEG = rx(
    r"(?<![a-z0-9])(?:nao|n|nunca|jamais|nem|not|don't|dont|do not|never)\s+"
    r"(?:(?:quero|queria|vou|desejo|pretendo|precisa|precisam|want to|wanna|need to|going to)\s+)?"
    r"(?:que\s+)?(?:me\s+)?$",
    words=False,
)


@dataclass(frozen=True)
class Signal:
    name: str
    label: str
    patterns: tuple
    negatable: bool = False  # "não quero comprar" must not fire "purchase"


def _compile(pattern):
    if isinstance(pattern, re.Pattern):
        return pattern
    if isinstance(pattern, (list, tuple)):
        pattern = "|".join(pattern)
    return rx(pattern)


def _sig(name, label, *patterns, negatable=False):
    return Signal(name, label, tuple(_compile(p) for p in patterns), negatable)


SIGNALS = (
    _sig(
        "purchase",
        "compra",
        rf"{WANT}\s+(?:muito\s+|mesmo\s+|ja\s+)?"
        + alt(
            "comprar|compra|adquirir|fechar|contratar|alugar|" + LEVAR + "|assinar|matricular|me matricular|matricula|"
            "me inscrever|inscrever|fazer (?:a |minha |uma )?(?:matricula|inscricao|compra|assinatura)|comecar|"
            "garantir|encomendar|reservar|querer"
        ),
        [
            "fecho",
            "fechamos",
            "fechar "
            + alt(
                "negocio|o negocio|a compra|o contrato|o aluguel|o pacote|o plano|a matricula|hoje|agora|ja|"
                "com (?:voces|vcs|vc)"
            ),
        ],
        r"fechar (?:o|a) (?!porta|janela|loja|conta)[a-z0-9-]+ (?:hoje|hj|agora|agr|amanha|ja|essa semana|esta semana)",
        r"quanto (?:fica|sai|faz) (?:pra|para|p) (?:levar|fechar)",
        rf"vou (?:querer|{LEVAR}|ficar com|comprar|fechar)",
        # "fecha negócio", "negócio fechado", "me vê 2 pneus", "quero usar a carta de crédito num Polo".
        r"fecha (?:negocio|o negocio|a compra)|negocio fechado|(?:me|mim) (?:ve|vende|separa) (?:um|uma|\d+|dois|duas)",
        r"(?:usar|utilizar) (?:a carta|o credito|meu credito|o consorcio)|"
        r"(?:quero|vou|pretendo) usar (?:num|numa|em um|em uma) ",
        r"adquirir|encomendar",
        [
            r"(?:quero|queremos|preciso|precisamos|gostaria de|vou) contratar",
            r"contratar (?:o|a|um|uma|plano|internet|servico)",
        ],
        r"garantir (?:minha|a|uma) vaga|fazer (?:a )?(?:minha )?(?:matricula|inscricao)",
        # "quero um X", "quero o sofá", "quero 10 unidades" (but not "quero um orçamento", "quero o reembolso").
        rf"{WANT}\s+(?:{ARTICLE[3:-1]}|\d+)\s+(?!"
        + (
            "orcamento|desconto|informac|info|retorno|atendente|humano|pessoa|reembolso|estorno|saber|ver|"
            "falar|tirar|trocar|vender|sair|receber|ajuda|duvida|resposta|contato|ligacao|visita|horario|"
            "consulta|avaliacao|simulacao|proposta|catalogo|foto|video|opcao|opcoes|noticia|reclamacao|lista|"
            "cotacao|segunda|2a|mudanca|troca"
        )
        + ")[a-z0-9]+",
        # "quero fazer um seguro", "quero fazer a matrícula" (but not "quero fazer uma reclamação").
        rf"{WANT}\s+fazer\s+(?:(?:um|uma|o|a|meu|minha)\s+)?(?!(?:um|uma|o|a|meu|minha)\s)(?!"
        + (
            "reclamacao|pergunta|orcamento|cotacao|simulacao|visita|avaliacao|consulta|agendamento|troca|"
            "devolucao|cancelamento|parceria|parcerias|materia|reportagem|entrevista|pesquisa|reuniao|proposta|"
            "apresentacao|divulgacao|permuta|reserva|estagio|trabalho|freela|bico"
        )
        + ")[a-z]+",
        r"pago " + _PAID_SUM + "(?:a vista|no pix|em dinheiro|hoje|agora)",
        # "quero pedir 3 marmitas" (not "pedir um orçamento", "pedir o reembolso").
        rf"{WANT} pedir (?:um|uma|uns|umas|\d+|dois|duas|tres) (?!orcamento|informac|info|desconto|reembolso|estorno|"
        r"segunda|2a|ajuda|favor|cotacao|retorno|atendimento)[a-z]+",
        r"trocar (?:de |o |meu )?carro",
        (
            "(?:i|we) (?:want|wanna|would like|'d like|d like|need) to "
            "(?:buy|purchase|hire|rent|order|sign up|enrol|enroll|book)|"
            "i'll take|i will take|to rent|to buy|ready to buy|want to buy"
        ),
        negatable=True,
    ),
    _sig(
        "need",
        "necessidade",
        alt("preciso|precisamos|precisava|necessito|to precisando|estou precisando|tamo precisando")
        + r"\s+(?:urgente\s+)?(?:(?:de|d)(?! (?:um |uma |uns |umas )?(?:orcamento|informac|info|ajuda|resposta|"
        r"segunda via|2a via|retorno|atendimento))|trocar|comprar|consertar|arrumar|instalar)",
        r"(?:procuro|procurando|buscando|busco)\s+(?:(?:um|uma|o|a)\s+)?(?!emprego|trabalho|vaga|estagio)[a-z]+",
        r"(?:i|we) need (?:a|an|to|some)|need a",
        negatable=True,
    ),
    _sig(
        "schedule",
        "agendamento",
        r"(?<!precisa )(?<!precisa de )"
        + alt(
            "agendar|agendamento|agende|agenda (?:pra|para|pro)|marcar|"
            "(?:marque|marca) (?:uma|um|pra|para|minha|meu|horario|consulta|visita|avaliacao|hora)"
        ),
        r"test[ -]?drive|testdrive|aula experimental|aula teste|aula gratis",
        r"visitar|fazer uma visita|conhecer (?:o|a) "
        r"(?:imovel|apartamento|apto|casa|escola|loja|clinica|decorado|showroom|stand|espaco|unidade|empreendimento)",
        r"(?:marcar|agendar|uma|a) visita|visita (?:pra|para|no|na|ao|amanha|hoje|hj|sabado|domingo)",
        r"(?:tem|teria|ha|tens|tiver|existe)\s+(?:algum\s+)?(?:horario|horarios|agenda|encaixe|hora)\s+"
        r"(?:livre\s+|disponivel\s+|vago\s+)?"
        + alt(
            "pra",
            "para",
            "p",
            "hoje",
            "hj",
            "amanha",
            "essa",
            "esta",
            "nesta",
            "nessa",
            "na",
            "no",
            "de manha",
            "a tarde",
            "a noite",
            "disponivel",
            "livre",
            WEEKDAY,
        ),
        r"atende[mn]? (?:hoje|hj|agora|agr|amanha|urgencia|emergencia)|atendendo (?:hoje|hj|agora|agr|amanha)",
        # A time slot: "tem vaga na agenda?", "reserva do salão pro dia 15", "quero levar ele aí agora".
        r"(?:tem|teria|ha|tens) (?:algum |alguma )?(?:horario|hora|agenda|disponibilidade)"
        r"(?: livre| disponivel| vago)?\s*\?|"
        r"disponibilidade (?:de horario |na agenda )?(?:pra|para|p|no|na) (?:[a-z]+ ){0,3}"
        rf"(?:hoje|hj|amanha|{WEEKDAY}|as \d)|"
        r"vagas? na agenda|(?:tem|teria|ha|tens) (?:alguma )?vaga (?:pra|para|p) (?:hoje|hj|amanha|agora)|"
        r"agenda (?:livre|aberta|disponivel)",
        r"reserv[a-z]* (?:(?:d[oa]s?|de|uma|um|a|o) )?(?:mesa|quadra|salao|churrasqueira|espaco|sala|quiosque|"
        r"horario|lugar|lugares)|reserv[a-z]* (?:[a-z]+ ){0,5}(?:pro|pra|para o|no|para) dia \d",
        r"(?:levar|trazer) (?:ele|ela|eles|elas|o pet|o cachorro|a cachorra|o gato|a gata)(?![a-z])|"
        r"(?:levar|trazer) (?:o |a )?(?:meu|minha) [a-z]+ (?:ai|aqui|hoje|hj|amanha|pra|para)",
        rf"{WANT} (?:ir )?(?:ver|olhar|testar|conhecer) (?:o|a|os|as|esse|essa|aquele|aquela) "
        r"(?!preco|valor|catalogo|foto|video|cardapio|site)[a-z0-9]+(?: [a-z0-9]+){0,3} "
        rf"(?:hoje|hj|amanha|de manha|a tarde|a noite|as \d|no {WEEKDAY}|na {WEEKDAY}|{WEEKDAY})",
        rf"pode ser (?:hoje|hj|amanha|semana que vem|na|no|as|dia|{WEEKDAY})",
        [
            r"(?:da|dá) (?:pra|para) (?:vir|passar|atender|encaixar|ir)",
            r"(?:pode|podem|consegue|conseguem|poderia|poderiam) "
            r"(?:vir|passar aqui|me atender|me encaixar|encaixar|atender hoje|atender amanha)",
        ],
        r"posso (?:passar|ir|ir ai|dar uma passada)|(?:passo|vou) ai (?:hoje|hj|amanha|sabado|as)",
        r"encaixe|encaixar",
        r"book|booking|schedule|appointment|can (?:someone|somebody|you) come",
    ),
    _sig(
        "price",
        "preço/pagamento",
        r"quanto(?! tempo| antes| dias| anos| meses| horas| minutos| km)",
        r"qto|qnto|qnt|qt|qtos|qnta|qta|kto|kanto",
        (
            "valor|valores|vlr|preco|precos|presso|precinho|custo|custa|custam|custaria|cobra|cobram|cobrado|"
            # "orçamento de 50 mil" is a budget; "orçamento de 200 camisetas" asks for a quote.
            r"orcamento(?! de (?:ate )?(?:r\$ ?)?\d[\d.,]* ?(?:mil|k|reais|contos?)|"
            r"de (?:ate )?(?:r\$ ?)?\d[\d.,]*(?! ?[a-z]))|"
            r"orcamentos|cotacao|mensalidade|mensalidades|anuidade|parcela|parcelas|parcelamento|"
            "parcelado|parcelar|parcelam|juros|entrada|a vista|pix|cartao|cartao de credito|no credito|no debito|"
            "boleto|financiamento|financiar|financia|financiado|desconto|descontos|barato|barata|baratinho|"
            "mais em conta|em conta|cheap|cheapest|cupom|promocao|promo|oferta|frete|taxa|taxas|tabela|convenio|"
            "cobre|simulacao|simular|sai por|permuta|forma de pagamento|formas de pagamento|condicoes|condicao|"
            "pagamento"
        ),
        r"\d{1,2}\s?x|em \d{1,2} ?vezes|bolsa (?:de )?\d+|bolsas? de estudos?|plano (?:cobre|aceito)|"
        r"(?:atendem|atende|aceitam|aceita) (?:pelo |o |a |pela )?(?:plano|convenio)|pelo (?:plano|convenio)",
        (
            "how much|price|prices|pricing|cost|costs|fee|fees|quote|finance|financing|installments?|discount|"
            "cuanto|cuesta|precio|precios"
        ),
    ),
    _sig(
        "info",
        "informação",
        rf"{VC}\s+"
        + alt(
            "tem|tb tem|tambem tem|teriam|trabalham com|trabalha com|fazem|faz|vende|vendem|atendem|atende|entregam|"
            "entrega|instalam|instala|consertam|conserta|aceitam|aceita|oferecem|da|dao|possuem|abrem|abre|compram|"
            "fecham|funcionam|trabalham|trabalha|mandam|enviam|pegam|pega|cuidam|cuida|atuam|atua|resolvem"
        ),
        [
            r"^\W*tem(?= )",
            "tem "
            + alt("disponivel|esse|essa|este|esta|em|no|na|pra|para|de|algum|alguma|loja|fibra|unidade|opcao|opcoes"),
        ],
        r"disponivel|disponiveis|disponibilidade|pronta entrega|estoque|ainda (?:esta|ta|tem|vale)|algum[a]? \w+\?",
        (
            "quando (?:abre|abrem|fecha|fecham|comeca|comecam|chega|chegam|tem|sai|vai ter)|que horas|quanto tempo|"
            "prazo de entrega|prazo|demora|how long|como funciona|funciona como|duracao|presencial|online|ead|"
            "qual (?:e )?o horario|que horario|horario de (?:voces|vcs|atendimento|abertura)|"
            "endereco|onde fica|onde voces ficam|localizacao|loja fisica|horario de funcionamento|horarios|abrem|"
            r"fotos?|catalogo|modelos|cores|tamanho|tamanhos|medidas|detalhes|ficha tecnica|especificac\w+|"
            "tenho interesse|tenho interese|interesse|interessad[oa]|gostaria de saber|gostaria de ver|queria saber|"
            r"quero saber(?! mais\W*$)|queria ver|quero ver|saber (?:sobre|se)|me passa|me manda|me envia|manda foto|"
            "e turbo|"
            "cardapio|menu"
        ),
        r"(?:me )?(?:enviar|envia|envie|mandar|manda|mande|passar|passa) (?:o |a |os |as |um |uma )?"
        r"(?:cardapio|catalogo|tabela|fotos?|videos?|informac\w+|lista|link|endereco|localizacao|opcoes|modelos)",
        (
            "do you (?:have|offer|sell|ship|deliver|do)|is it|is the|are there|available|interested in|details|"
            "ship to|open on|deliver to|can you deliver|do you open|opening hours"
        ),
        negatable=True,
    ),
    _sig(
        "vague_info",
        "pedido vago de informação",
        (
            r"mais info\w*|info|infos|informac\w+|information|saber mais|umas info\w*|de onde (?:voces|vcs|vc)? ?sao|"
            r"(?:vcs|voces) sao de onde|como funciona\?$"
        ),
    ),
    _sig(
        "urgency",
        "urgência",
        (
            r"urgente\w*|urgencia|urgent|urgently|asap|emergencia|emergency|o quanto antes|quanto antes|"
            r"o mais rapido(?: possivel)?|imediat\w+|right away|right now|o mais cedo possivel|ainda hoje|hoje ainda|"
            "hoje mesmo|hj mesmo|hj ainda|agora mesmo|hoje|hj|agora|agr|today|tonight|amanha|amanhan|amnh|tomorrow|"
            "essa semana|esta semana|nesta semana|nessa semana|this week|ultimo dia|esse mes ainda|este mes ainda|"
            "pra ja|pra ontem"
        ),
    ),
    _sig(
        "credit_approved",
        "crédito aprovado",
        alt("credito|financiamento|carta de credito|emprestimo|consorcio|cadastro|ficha|limite")
        + r"\s+(?:ja\s+)?(?:foi\s+|esta\s+|ta\s+)?(?:pre[ -]?)?aprovad[oa]",
        (
            "aprovad[oa] (?:no|na|pelo|pela|em)|"
            "(?:tenho|com|ja tenho|estou com|to com) (?:o |um |meu )?credito (?:pre[ -]?)?aprovado|"
            "pre[ -]?aprovad[oa]|carta de credito contemplada|contemplad[oa]|(?:pre[ -]?)?approved"
        ),
    ),
    _sig(
        "cash_ready",
        "pagamento à vista",
        (
            "pago " + _PAID_SUM + "(?:a vista|no pix|em dinheiro|tudo a vista|cash)|(?:ja )?tenho o (?:dinheiro|valor)|"
            "dinheiro (?:na mao|em maos)|ja tenho (?:o dinheiro|a grana|o valor)|have the (?:cash|money)|"
            "pay (?:in )?cash"
        ),
    ),
    _sig(
        "negative",
        "sem interesse",
        (
            "so (?:olhando|dando uma olhada|pesquisando|vendo|curiosidade|por curiosidade)|"
            "(?:to|estou|tou|tava|estava) (?:so )?"
            "(?:olhando|pesquisando|vendo as opcoes|so vendo|so pesquisando|dando uma olhada)|"
            "dando uma olhada|sem (?:interesse|interese|pressa|grana|dinheiro|condicoes)|"
            "(?:nao|n) tenho (?:interesse|dinheiro|grana|condicoes)|(?:nao|n) (?:tenho )?interesse|"
            "to (?:liso|duro|sem grana)|nem pensar|desisti|not interested|no thanks|just (?:looking|browsing)|"
            "no money|(?:so |ir |vou |estou |to )acompanhando|meu sonho (?:e|eh)|quem sabe um dia"
        ),
    ),
    _sig(
        "price_objection",
        "objeção de preço",
        ("caro demais|muito caro|mt caro|mto caro|ta caro|esta caro|carissimo|caro pra caramba|too expensive|salgado"),
    ),
    _sig(
        "later",
        "prazo longo",
        (
            "ano que vem|proximo ano|futuramente|no futuro|mais pra frente|mais para frente|um dia|talvez|"
            "por enquanto|next year|some day|someday|maybe later|"
            r"daqui (?:a |uns |umas |a uns )?(?:\d+|dois|duas|tres|quatro|cinco|alguns|algumas|um) (?:anos?|meses)|"
            r"em (?:\d+|dois|tres) anos|in (?:\d+|two|a few) (?:years|months)"
        ),
    ),
    _sig(
        "opt_out",
        "descadastro",
        # Read in each message on its own (rules_engine), never in the conversation joined.
        OPT_OUT_BARE,
        r"(?:pare|parem|para|parar|deixe|deixem) de (?:me )?"
        r"(?:mandar|enviar|encher|ligar|mandarem|incomodar|perturbar|receber)",
        [
            "(?:nao|n) (?:quero|desejo|gostaria de) mais receber",
            "(?:nao|n) (?:quero|desejo) receber (?:mais )?" + alt(OPT_OUT_WHAT, "nada"),
            r"(?:nao|n) (?:me )?(?:mande|mandem|envie|enviem|ligue|liguem|contate|contatem|procure|procurem) mais",
            "(?:nao|n) quero mais " + OPT_OUT_WHAT,
            "chega de " + OPT_OUT_WHAT,
            r"cancelar (?:as |o envio de |o envio das |o recebimento de |o recebimento das )?"
            r"(?:mensagens|msgs|promocoes|notificacoes|propagandas)",
        ],
        # "me tira da lista", "tirem meu número do cadastro", "quero sair do grupo" (not "tira da lista o caderno").
        alt(
            "sair",
            "me " + _REMOVE,
            _REMOVE + " (?:o )?meu (?:numero|contato|email|e-mail|telefone|nome)",
        )
        + " (?:da|desta|dessa|desse|deste|do|dos|das) (?:sua |vossa |tua )?"
        + alt("lista(?! de espera)|grupo|mailing|cadastro|listas|grupos|contatos"),
        (
            r"descadastr\w*|unsubscribe|opt[ -]?out|stop (?:sending|messaging|texting|contacting)|"
            "remove me|take me off|leave me alone|"
            "(?:do not|don't|dont) (?:text|message|contact) me (?:again|anymore|any more)"
        ),
    ),
    _sig(
        "support",
        "pós-venda/suporte",
        [
            "meu "
            + alt(
                "pedido|pedidos|produto|contrato|boleto|carne|certificado|diploma|cadastro|reembolso|dinheiro|estorno"
            ),
            # Not "minha conta (de luz) vem 400 reais" nor "minha internet de outra operadora": a prospect's own.
            "minha "
            + alt(
                "compra|encomenda|entrega|fatura|assinatura|conexao|linha|mensalidade",
                r"conta(?! (?:de |da |do )?(?:luz|energia|agua|gas|telefone|celular)| vem| fica| chega| da uns)",
                r"internet(?! (?:de|da|com|na) (?:outra|outro|operadora)| atual| de casa e)",
            ),
        ],
        (r"pedido\s*(?:n[o.]?|numero|nº|#)?\s*\d{3,}|order\s*(?:n[o.]?|number|#)?\s*#?\d{3,}|my order|protocolo"),
        alt("nao|n|ainda nao|ate agora nao|nunca")
        + " "
        + alt(
            r"chegou|veio|funciona|funcionou|liga|ligou|carrega|foi resolvid\w+|resolveram|apareceu|devolveu|"
            "devolveram|responde|responderam|recebi|entregaram|entregou"
        ),
        (
            "hasn'?t arrived|has not arrived|didn'?t arrive|never arrived|not working|doesn'?t work|arrived broken|"
            "came broken|refund|return it"
        ),
        (
            "defeito|defeituos[oa]|com problema|veio errad[oa]|veio quebrad[oa]|veio com|garantia|reclamacao|reclamar|"
            "assistencia tecnica|segunda via|2a via|2 via|2ª via|atrasad[oa]|vencid[oa]"
        ),
        (
            "trocar (?:o |a )?(?:tamanho|numero|cor|produto|peca)|fazer a troca|devolucao|devolver|reembolso|"
            "estorno|dinheiro de volta|cancelei|cancelamento|cancelad[oa]|"
            "cancelar (?:o |a |meu |minha |o meu |a minha )|cancel my|"
            "(?:quero|queria|gostaria de|preciso|como) cancelar"
        ),
        (
            "remarcar|desmarcar|reagendar|resultado do (?:meu )?exame|caucao|"
            "moro no (?:apto|apartamento|ap|predio|condominio)"
        ),
        (
            "reiniciei|caindo|sem sinal|sem internet|ta lenta|esta lenta|"
            r"(?:aluguei|comprei|contratei|fiz) (?:\w+ ){0,3}com (?:voces|vcs|vc)|parou de funcionar|deu defeito|"
            "fiz (?:a|o|uma|um|minha|meu) [a-z ]{2,30} (?:ontem|semana passada|mes passado)|"
            "ninguem (?:responde|atende|resolve|avisou)"
        ),
        r"cade (?:o |a )?(?:meu|minha)|sou cliente|fiz uma compra|fiz um pedido|comprei (?:aqui|ai|no site|na loja)",
        # Someone already enrolled changing what they have: "já sou aluna, queria trocar minha turma".
        r"ja sou (?:cliente|alun[oa]|paciente|associad[oa]|soci[oa]|assinante)|"
        r"(?:trocar|mudar|alterar) (?:a |o )?(?:minha|meu) (?:turma|horario|plano|aula|dia de|data de vencimento)",
        # A payment due or late: "a parcela do meu consórcio venceu", "posso pagar sem multa?".
        (
            r"(?:parcela|boleto|fatura|mensalidade|prestacao|conta|carne)s? (?:[a-z0-9]+ ){0,4}"
            r"(?:venceu|vencendo|vence hoje|atrasou|em atraso)|pagar (?:[a-z]+ ){0,2}sem (?:multa|juros)|"
            r"multa (?:por|de) atraso|atrasei (?:a|o) (?:parcela|boleto|mensalidade|pagamento)"
        ),
        # Paid and not cleared: "já paguei o boleto mas consta em aberto".
        (
            r"ja paguei|paguei (?:o|a|os|as) (?:boleto|fatura|parcela|mensalidade|conta|pix|taxa)|"
            r"consta (?:em aberto|como (?:pendente|em aberto|nao pag\w+)|em atraso)|"
            r"(?:pagamento|pix) (?:ainda )?(?:nao|n) (?:caiu|compensou|baixou|foi identificado)|"
            r"(?:nao|n) (?:deu|deram|ta dando) baixa"
        ),
        # Access to what was contracted: "esqueci a senha", "não consigo acessar a plataforma".
        (
            r"esqueci (?:a |minha |meu )?(?:senha|login|usuario)|"
            r"(?:nao|n) consigo (?:acessar|entrar|logar|fazer (?:o )?login)|"
            r"(?:redefinir|recuperar|resetar) (?:a |minha )?senha|senha (?:nao funciona|bloqueada|invalida)|"
            r"forgot (?:my )?password|can'?t (?:log ?in|access my)"
        ),
        # Something bought to exchange or return: "a calça que comprei ficou pequena".
        (
            r"que (?:eu )?(?:comprei|pedi|recebi|encomendei|ganhei|fiz)(?! (?:outr[oa]|um|uma))|"
            r"(?:nota fiscal|nf|cupom fiscal) (?:da|do) (?:minha |meu )?(?:compra|pedido|servico)|"
            r"ficou (?:muito |meio |um pouco )?(?:pequen|grande|apertad|larg|curt|compri)[a-z]*"
        ),
        # After a service done here: "meu pet fez cirurgia aí semana passada", "os pontos estão abrindo".
        (
            r"(?:fez|fiz|fizemos|fizeram|teve|tive|fizeste) (?:[a-z]+ ){0,3}(?:ai|aqui|com (?:voces|vcs|vc))"
            r"(?: n[oa])? (?:ontem|anteontem|semana passada|mes passado|sabado|domingo|ha \w+ dias)|"
            r"(?:fez|fiz|fizemos|fizeram) (?:o |a |um |uma )?[a-z]+ (?:ai|aqui|com (?:voces|vcs|vc)) e |"
            r"(?:ja )?(?:ficou|esta|ta) pront[oa]\?|"
            r"pontos (?:estao |tao |ta |esta )?(?:abrindo|abertos|inflamad\w+|infeccionad\w+)|pos[- ]?operatorio"
        ),
        # Still in the shop or class status: "o carro tá na revisão desde segunda", "o treino de hoje vai ter?".
        (
            r"(?:ta|esta|deixei|ficou) (?:o |a |meu |minha )?(?:[a-z]+ )?(?:ai |aqui |com (?:voces|vcs) )?"
            r"(?:na|no|em) (?:revisao|conserto|manutencao|oficina|assistencia|reparo|funilaria|lavagem)|"
            r"(?:aula|treino|sessao|turma|ensaio|culto)(?: [a-z]+){0,2}(?: d[ao]s? \d+ ?h?[a-z0-9]*)?"
            r"(?: de hoje| de amanha| hoje| amanha)? vai ter|vai ter (?:aula|treino) (?:hoje|amanha)|"
            r"professor[a]? (?:faltou|vai faltar|nao vem|nao veio)"
        ),
        r"(?:veio|chegou|recebi|entregaram) (?:o |a |um |uma )?(?:[a-z]+ ){0,2}"
        r"(?:errad[oa]|quebrad[oa]|com defeito|danificad[oa]|amassad[oa]|trocad[oa]|faltando)",
    ),
    _sig(
        "spam",
        "spam",
        (
            r"ganhe|ganhar dinheiro|renda extra|bitcoin|btc|cripto\w*|crypto\w*|forex|invista|investimento garantido|"
            r"lucro garantido|\d+% ao mes|seguidores|clique aqui|clica no link|clicar no link|"
            "acesse (?:ja|agora|o link|www)|gratis|free money|earn money|promocao imperdivel|sem sair de casa|"
            r"trabalhando de casa|trabalhe de casa|voce foi selecionad\w|parabens,? voce ganhou|pix premiado|sorteio|"
            "click here"
        ),
        r"https?://\S+|www\.\S+|bit\.ly\S*",
        # Links without www: shorteners, Telegram, cheap top-level domains ("ganhefacil.top", "t.me/x").
        re.compile(
            r"(?<![\w@.])(?:bit\.ly|t\.me|tinyurl\.com|cut\.ly|encurtador\.com\.br)/\S*|"
            r"(?<![\w@.])[a-z0-9-]{3,}\.(?:top|xyz|site|online|club|click|link|info|shop|live|vip|win)(?![a-z0-9])|"
            r"(?<![\w@.])[a-z0-9]+-[a-z0-9-]+\.(?:com|net)(?:\.br)?(?![a-z0-9])"
        ),
        # Prize draws and phishing: "você foi sorteado", "resgatar seu prêmio", "sua conta será bloqueada".
        (
            r"(?:voce|vc) foi (?:sorteado|sorteada|contemplad[oa]|premiad[oa])|foi sorteado|"
            r"resgat\w+ (?:o |seu |sua )?(?:premio|brinde|presente)|para resgatar|pra resgatar|premio em dinheiro|"
            r"(?:sua|seu) (?:conta|cpf|whatsapp|cartao|chip|numero|nome|divida) (?:\w+ ){0,2}(?:sera|vai ser|foi) "
            r"(?:bloquead\w|suspens\w|cancelad\w|desativad\w|protestad\w|negativad\w)|"
            r"(?:confirme|informe|digite) (?:o |seu )?codigo|codigo (?:enviado|recebido) (?:por|via) sms|"
            r"atualize seus dados|(?:cpf|cnpj|titulo) (?:esta |encontra-se )?(?:irregular|pendente|suspenso)|"
            r"regularize (?:ja|agora|em|seu|sua|hoje)|(?:pacote|encomenda|objeto) (?:\w+ )?(?:retid[oa]|taxad[oa])|"
            r"pague a taxa|taxa de (?:liberacao|desembaraco|reenvio)|"
            r"you (?:have )?won|claim (?:now|your (?:prize|reward|gift))|congratulations!? you"
        ),
        # Loans offered to anyone: "empréstimo consignado liberado", "taxa 1,2% a.m.", "sem consulta ao SPC".
        (
            r"emprestimo consignado|credito consignado|consignado liberado|"
            r"emprestimo (?:liberado|facil|rapido|na hora)|"
            r"\d+(?:[.,]\d+)? ?% (?:a\.? ?m\b\.?|ao mes)|sem consulta (?:ao |a )?(?:spc|serasa)|"
            r"(?:para|pra) negativados|aposentados e pensionistas|chame agora|chama agora|ligue ja|"
            r"responda sim|vagas limitadas|retorno garantido|dinheiro rapido|"
            r"(?:chame|chama|me chama) no (?:whats|whatsapp|zap|pv|direct|inbox)|^\W*quer (?:ganhar|sair do aluguel|"
            r"emagrecer|ficar ric[oa]|renda)|(?:voce|vc) ganhou (?:um|uma|o|a)|clique em|"
            r"resgate (?:ja|agora|o seu|seu)|"
            r"promocao relampago|acesse (?:o site |nosso site )?[a-z0-9-]+\.(?:com|net|shop|store|site|online|top|xyz)"
        ),
        # Bought followers and cold SEO pitches.
        (
            r"(?:aumente|aumentar|turbine|compre|comprar) (?:seus |suas |os |mais )?"
            r"(?:seguidores|curtidas|likes|views)|"
            r"seo (?:consultant|specialist|expert)|(?:your|seu) (?:website|site) (?:is not|isn'?t|nao esta) "
            r"(?:ranking|aparecendo)|first page of google|primeira pagina do google|i can fix it"
        ),
        # "Oi mãe, troquei de número": a relative's new number asking for money.
        (
            r"(?:oi|ola|oie) (?:mae|pai|filh[oa]|vo|tia|tio)\b|^\W*(?:mae|pai|filh[oa]|vo|vovo|tia|tio)\b|"
            r"troquei de numero|mudei de numero|"
            r"(?:preciso|tenho que) pagar (?:um|uma) (?:boleto|conta) (?:urgente|hoje)|"
            r"(?:esse|este) (?:e|eh) (?:o )?meu (?:novo )?numero|salva (?:esse|este|meu novo)(?: numero| contato)?|"
            r"(?:preciso de|faz|faca|manda) (?:um )?pix (?:urgente|pra mim|de \d+)|me empresta"
        ),
    ),
    _sig(
        "job_seeker",
        "candidato a vaga",
        [
            "curriculo",
            "curriculum",
            "meu cv",
            "resume",
            "emprego",
            "estagio",
            "jovem aprendiz",
            "processo seletivo",
            "vagas? (?:de|para|pra) (?!garagem|estacionamento|carro|moto)"
            + alt(
                r"emprego|trabalho|estagio|vendedor\w*|atendente|recepcionista|tecnic\w*|motorista|auxiliar|"
                r"assistente|professor\w*|estagiari\w*|gerente|caixa|repositor\w*|promotor\w*|consultor\w*|"
                r"corretor\w*|mecanic\w*|secretari\w*|enfermeir\w*|dentista|cozinheir\w*|garcom|entregador\w*|\w+ista"
            ),
            "vagas? (?:aberta|em aberto|disponive)",
            "trabalhar (?:com|para|pra|ai|aqui|na|no|junto) ?(?:voces|vcs|vc|ai|a empresa|a loja)?(?! de uber)",
            "(?:estao|tao|estariam|voces estao|vcs tao|vcs estao) contratando",
            r"contratando\?",
            "are you hiring",
            "hiring",
            "job",
            "sales position",
            "work for you",
        ],
    ),
    _sig(
        "supplier",
        "fornecedor/parceiro",
        [
            "(?:sou|somos) (?:um |uma |o |a )?" + alt(r"fornecedor\w*|distribuidor\w*|representante\w*|fabricante"),
            r"fornecedor\w*",
            "represento (?:a |uma |o |um )?",
            "representante (?:da|do|comercial|de)",
            "(?:gostaria|queria|quero|venho|vim) (?:de |aqui )?(?:apresentar|oferecer|ofertar) "
            + alt("nossos?|nossas?|meus?|minhas?|o nosso|a nossa|os nossos|as nossas"),
            r"parceri\w*",
            "parceir[oa]s?",
            "oferecer nossos servicos",
            "posso aumentar suas vendas",
            "aumentar suas vendas",
            "nossos produtos",
            "nosso portfolio",
            "meu portfolio",
            "we (?:offer|provide) (?:services|solutions)",
            r"we are an? (?:[a-z]+ ){0,3}(?:agency|company|firm|studio|consultancy|supplier|manufacturer)|"
            r"(?:present|show|offer) (?:you )?our (?:services|solutions|products|platform)",
            "partnership",
            # Influencers and agencies addressing the business: "sou influenciadora, topa uma permuta?".
            r"influenciador\w*|influencer|blogueir\w+|criador(?:a)? de conteudo|topa (?:uma )?(?:permuta|parceria)|"
            r"\d+ ?(?:mil|k) (?:de )?seguidores",
            r"(?:para|pra|na) (?:a )?sua (?:empresa|loja|clinica|escola|academia|imobiliaria)(?! de )|"
            r"(?:seu|sua) (?:negocio|empresa) (?:vender|crescer|faturar)",
            # "Oferecemos gestão de tráfego", "Somos a SolarMax, fabricante de inversores", "nossa proposta".
            "oferecemos|ofertamos|disponibilizamos|trabalhamos com (?:solucoes|servicos) de",
            # Asking the business whether it wants to buy: "vocês têm interesse em comprar nossos uniformes?".
            r"(?:voces|vcs|vc) (?:tem|teriam|teria|tens) interesse (?:em|no|na|nos|nas)|"
            r"(?:comprar|conhecer|adquirir|experimentar|testar) (?:o |a |os |as )?(?:nossos|nossas|nosso|nossa) ",
            r"(?:sou|somos) (?:a |o |um |uma )?(?:[a-z0-9]+,? ){0,3}(?:um |uma |a |o )?"
            + alt(r"fabricante|distribuidora?|fornecedora?|importadora?|agencia|consultoria|representante\w*"),
            r"(?:temos|oferecemos) (?:condicoes|precos|descontos|tabela) (?:especiais|exclusiv\w+|diferenciad\w+)",
            "(?:apresentar|mostrar) (?:a |o )?(?:nossa|nosso|nossas|nossos) "
            + alt("proposta|solucao|solucoes|empresa|servicos?|produtos?|trabalho|plataforma|sistema"),
            r"(?:ser|seja|sejam|virar|tornar) (?:um |uma )?(?:parceir[oa]|fornecedor\w*)",
            r"(?:para|pra) (?:integradores|lojistas|revendedores)",
            # Someone working for the business: "mandei a guia do DAS de vocês", "segue a nota fiscal da empresa".
            r"(?:mandei|enviei|segue|seguem|encaminhei) (?:a |o |as |os )?"
            r"(?:guias?|notas? fisca\w*|nf|nfe|faturas?|cobrancas?|relatorios?|balancete|folha de pagamento)"
            r"(?: [a-z0-9]+){0,3} (?:de|da|pra|para) (?:voces|vcs|vc|empresa|sua empresa)",
        ],
    ),
    _sig(
        "press",
        "imprensa/pesquisa",
        [
            # Journalists, students and researchers: not customers, whatever verbs they use.
            "jornalista|reporter|reportagem|imprensa|pauta (?:sobre|para)",
            "(?:sou|somos|falo|escrevo) (?:do|da|de um|de uma|para o|para a|pro|pra) "
            + alt("jornal|revista|portal|radio|tv|emissora|blog|podcast|site de noticias"),
            "fazer (?:uma )?materia|uma materia (?:sobre|com|para|pro|pra)|entrevistar",
            r"questionario|formulario de pesquisa|pesquisa (?:academica|cientifica|de campo|de mestrado|de doutorado)|"
            r"(?:fazendo|faco|realizando) (?:uma )?pesquisa (?:sobre|com|para|pra)|(?:meu|nosso) tcc|"
            r"trabalho (?:de|da) (?:faculdade|escola|conclusao|universidade)",
            "journalist|survey|questionnaire|research project",
        ],
    ),
    _sig(
        "human_request",
        "pede atendente",
        [
            "falar com (?:um |uma |o |a |algum |alguma |alguem )?"
            + alt(
                r"atendente|humano|pessoa|alguem|vendedor\w*|consultor\w*|corretor\w*|gerente|responsavel|gente|dono"
            ),
            "atendimento humano",
            "atendente",
            "me liga",
            "me liguem",
            "me ligue",
            "pode me ligar",
            "podem me ligar",
            "call me",
            "talk to (?:a )?(?:human|person|agent|someone)",
            "real person",
        ],
    ),
    _sig(
        "complaint",
        "reclamação",
        (
            "absurdo|procon|reclame aqui|reclameaqui|pessimo|pessima|horrivel|vergonha|palhacada|descaso|"
            r"falta de respeito|ninguem (?:responde|atende|resolve|avisou)|to indignad\w|estou indignad\w|que raiva|"
            "terrible|awful|unacceptable"
        ),
    ),
    _sig(
        "injection",
        "tentativa de manipular o assistente",
        (
            "ignore (?:suas|as|todas as|todas|your|all|previous|the|all previous|as suas|tudo)|"
            "ignora (?:suas|as|todas|tudo)|desconsidere (?:suas|as|todas)|"
            r"esqueca (?:suas|as|todas) (?:as )?instruc\w+|system\s*:|assistant\s*:|"
            r"(?:marque|marca|marcar|mark|set|coloque|defina|mude)\s+(?:este|esse|o|this|the|meu|my)?\s*(?:lead|score|pontuacao|status|temperatura)|"
            r"(?:set|sete|defina|coloque)\s+(?:o\s+)?(?:score|pontuacao|temperature|temperatura)|como ganho|as won|"
            r"(?:envie|mande|send|forward)\s+(?:isso|isto|this|essa mensagem|esta mensagem)?\s*"
            r"(?:para|pra|to)\s+(?:todos|todas|all)|"
            "you are now|voce agora e|new instructions|novas instrucoes|prompt|jailbreak|developer mode|"
            "modo desenvolvedor"
        ),
        re.compile(r"<<<|>>>"),
    ),
    _sig(
        "greeting",
        "saudação",
        (
            "oi+e?|ola|opa|eai|e ai|bom dia|boa tarde|boa noite|hello|hi|hey|good (?:morning|afternoon|evening)|"
            "tudo bem|td bem|tudo bom|blz|beleza|salve"
        ),
    ),
)

SIGNALS_BY_NAME = {s.name: s for s in SIGNALS}

# A repair asked of the business ("vcs consertam notebook que não liga?", "quanto fica pra arrumar a tela?"):
# the defect it names is the job, not a complaint about something bought here, unless the message says so.
REPAIR_REQUEST = rx(
    rf"{VC} (?:consertam|conserta|arrumam|arruma|reparam|repara|fazem (?:conserto|reparo|manutencao))|"
    r"(?:conserto|reparo|manutencao) (?:de|do|da|em)|"
    r"orcamento (?:de|do|pra|para) (?:conserto|reparo|consertar|arrumar)|"
    r"quanto (?:\w+ ){0,2}(?:pra|para) (?:consertar|arrumar|reparar)"
)
# A trade-in towards something new ("quanto vcs pagam no meu iPhone 12 na troca por um 15?"): buying, whatever
# the message says about the old item.
TRADE_IN = rx(
    r"na troca (?:por|pelo|pela|num|numa)|(?:aceitam|aceita|pegam|pega) (?:o |a )?(?:meu|minha) (?:[a-z0-9]+ ){1,3}"
    r"(?:na troca|como entrada|de entrada)|quanto (?:voces|vcs|vc) (?:pagam|paga|dao|da) (?:no|na|pelo|pela|nele|nela)"
)
BOUGHT_HERE = rx(
    r"comprei|comprou|garantia|pedido|(?:com|de) (?:voces|vcs|vc)|ai mesmo|aqui mesmo|nota fiscal|ja levei|deixei|"
    r"(?:ficou|esta|ta) pront[oa]|"
    r"voces (?:consertaram|arrumaram|fizeram)|vcs (?:consertaram|arrumaram|fizeram)|de novo|novamente"
)

# ---------------------------------------------------------------- injection written as markup or JSON

# What a message does to look like the prompt around it or like the model's answer: close the
# customer block, speak as a chat role, or write fields of the answer. Folded text keeps these
# characters (``< > [ ] { } | # : " _``); typographic quotes count as quotes (phones type them).
# Each of these fires the ``injection`` signal; rules_engine blanks the JSON object a field is in,
# or the rest of the clause after a tag. Ordinary text never matches: an order number in braces,
# an e-mail between < >, "<3", "[foto]", "instruções: deixar na portaria" or "score: 750" are no
# tags, no chat roles and no quoted answer fields.
_ROLE = alt(
    "system|system_prompt|sistema|sys|assistant|assistente|developer|desenvolvedor|user|usuario|human|humano|"
    "admin|administrador|root|tool|tools|function|instructions?|instrucao|instrucoes|prompt|context|contexto"
)
_BLOCK = alt(
    r"customer[\s_-]*message|mensagem[\s_-]*do[\s_-]*cliente|customer|cliente|message|mensagem|input|entrada|"
    "data|dados|text|texto|query|document|documento|conversation|conversa"
)
_QUOTE = "\\\\?[\"'\u201c\u201d\u2018\u2019`]"  # straight or typographic, maybe escaped (\\")
# Fields of the answer's JSON schema (llm_prompt.FIELDS) that decide something, and the lead's own fields;
# the contact fields (name, e-mail, phone, company) are left out: a pasted contact card is no attack.
_ANSWER_KEYS = alt(
    "stage|stage_id|etapa|estagio|fase|user_id|team_id|vendedor|responsavel|salesperson|assigned_to|ai_[a-z_]+|"
    "temperature|temperatura|score|pontuacao|nota|intent|intencao|probability|probabilidade|priority|prioridade|"
    "needs_human|opt_out_quote|opt_out|spam|reason|motivo|catalog_matches|timeframe|role|papel|tool_calls|function_call|"
    "actions?|acao|acoes|is_won|won|ganho|active|expected_revenue"
)
_WHO = alt("customer|user|cliente|usuario")

INJECTION_MARKUP = tuple(
    rx(pattern, words=words)
    for pattern, words in (
        # Tags: <system>, </customer_message>, <instruções>, </mensagem>
        (rf"<\s*{_ROLE}(?:\s[^<>]{{0,80}})?\s*/?\s*>", False),
        (rf"<\s*/\s*(?:{_ROLE}|{_BLOCK})\s*>", False),
        # Chat-template tokens: <|im_start|>, <|eot_id|>, <<SYS>>, <start_of_turn>, [INST], [/INST], [SYSTEM]
        (r"<\|\s*[a-z_]{1,30}\s*\|>", False),
        (r"<<\s*/?\s*sys\s*>>", False),
        (r"<\s*/?\s*(?:start_of_turn|end_of_turn|bos|eos)\s*>", False),
        (
            r"\[\s*/?\s*(?:inst|sys|system|system_prompt|sistema|assistant|assistente|developer|admin|"
            r"instructions?|instrucao|instrucoes|tool_calls|available_tools)\s*\]",
            False,
        ),
        # Prompt headings: ### Instruction:, ## System, ### Resposta
        (
            r"#{2,}\s*(?:new\s+|novas?\s+)?(?:instructions?|instrucao|instrucoes|system|sistema|response|resposta|"
            r"assistant|assistente|human|humano|user|usuario|input|output|context|contexto|prompt|task|tarefa)"
            r"(?![a-z0-9])",
            False,
        ),
        # Fields of the answer or of the lead: {"stage": "won"}, “temperatura”: “quente”, {score: 100}
        (rf"{_QUOTE}\s*{_ANSWER_KEYS}\s*{_QUOTE}\s*[:=]", False),
        (rf"\{{\s*{_ANSWER_KEYS}\s*[:=]", False),
        # The block's own name, or its end announced: customer_message, "end of customer message"
        (r"customer[_-]+message|mensagem[_-]+do[_-]+cliente", True),
        (
            rf"(?:end|fim|final)\s+(?:of\s+|da\s+|do\s+)?(?:the\s+)?{_WHO}(?:'s)?\s+(?:message|mensagem|input)|"
            rf"(?:end|fim|final)\s+(?:of\s+|da\s+)?(?:the\s+)?(?:message|mensagem|input)\s+(?:of|from|do|da)\s+"
            rf"(?:the\s+)?{_WHO}",
            True,
        ),
    )
)

# Still choosing between options ("qual o mais barato que vcs tem?"): an urgent need is then no decision yet.
CHOOSING = rx(r"qual (?:e )?(?:o|a|os|as) (?:mais|melhor|melhores|menor)|quais (?:as )?(?:opcoes|modelos)|which one")

# A question needs one of these to count as asking (and not only commenting).
QUESTION = rx(
    r"\?|^\W*" + alt("qual|quais|quanto|qto|como|onde|quando|tem|vcs|voces|aceita|aceitam|fazem|pode|podem") + r"\b",
    words=False,
)


# ---------------------------------------------------------------- spelling

# Key words whose misspellings (one letter added, missing, changed or two swapped) are corrected:
# "conprar" -> "comprar", "urgenti" -> "urgente", "orsamento" -> "orcamento".
_FUZZY_TARGETS = fold(
    """
    comprar adquirir contratar alugar matricula matricular inscricao agendar agendamento marcar horario
    visita visitar consulta avaliacao urgente urgencia amanha semana orcamento financiamento financiar parcela
    parcelado parcelamento desconto mensalidade quanto valor preco disponivel interesse interessado interessada
    informacao informacoes garantia defeito pedido cancelar reembolso devolucao boleto curriculo emprego
    fornecedor representante descadastrar receber mensagem mensagens gostaria queria preciso precisamos
    aprovado aprovada credito entrega apartamento dinheiro agora funciona chegou
    """
).split()
# Real words one edit away from a key word, never "corrected".
_PROTECTED = fold(
    """
    quando quantos quantas marca marcas fecha lugar lugares manha calor vapor valer valores perco prego pedindo
    pedida preso visito consulto agenda compra compre compro comprou queira querer quera gostarias horarios
    boletos pedidos visitas semanas parcelas consultas entregas credita receba recebe recebi efeito efeitos
    vista vistas revista visto quarto quartos preto precisa precisam precisas compras semanal
    """
).split()


def _pattern_words():
    words = set()
    for pattern in (*(p for signal in SIGNALS for p in signal.patterns), *INJECTION_MARKUP):
        words.update(re.findall(r"[a-z]{3,}", pattern.pattern))
    return words


def _deletes(word):
    return {word[:i] + word[i + 1 :] for i in range(len(word))}


def _within_one(a, b):
    """Optimal string alignment distance <= 1 (one insertion, deletion, substitution or swap)."""
    if a == b:
        return True
    la, lb = len(a), len(b)
    if abs(la - lb) > 1:
        return False
    i = 0
    while i < min(la, lb) and a[i] == b[i]:
        i += 1
    if la == lb:
        if a[i + 1 :] == b[i + 1 :]:
            return True
        return i + 1 < la and a[i] == b[i + 1] and a[i + 1] == b[i] and a[i + 2 :] == b[i + 2 :]
    if la > lb:
        return a[i + 1 :] == b[i:]
    return a[i:] == b[i + 1 :]


_KNOWN_WORDS = set(_FUZZY_TARGETS) | set(_PROTECTED)
_FUZZY_INDEX = {}
for _word in _FUZZY_TARGETS:
    for _variant in {_word} | _deletes(_word):
        _FUZZY_INDEX.setdefault(_variant, set()).add(_word)


def correct_word(word):
    """The key word ``word`` is a misspelling of, or ``None`` (``word`` is folded)."""
    if len(word) < 5 or word in _KNOWN_WORDS or word in _PATTERN_WORDS:
        return None
    candidates = set(_FUZZY_INDEX.get(word, ()))
    for variant in _deletes(word):
        candidates |= _FUZZY_INDEX.get(variant, set())
    candidates = {c for c in candidates if _within_one(word, c)}
    if len(candidates) == 1:
        return candidates.pop()
    return None


_PATTERN_WORDS = _pattern_words() - set(_FUZZY_TARGETS)

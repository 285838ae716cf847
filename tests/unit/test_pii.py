"""Masking of personal data before text goes to a cloud model."""

import pytest
from crm_ai_services.pii import cnpj_is_valid, cpf_is_valid, luhn_is_valid, mask_pii, unmask


def test_checksums():
    assert cpf_is_valid("529.982.247-25")
    assert cpf_is_valid("52998224725")
    assert not cpf_is_valid("529.982.247-26")
    assert not cpf_is_valid("111.111.111-11")
    assert cnpj_is_valid("11.222.333/0001-81")
    assert not cnpj_is_valid("11.222.333/0001-82")
    assert luhn_is_valid("4111 1111 1111 1111")
    assert not luhn_is_valid("4111 1111 1111 1112")
    assert not luhn_is_valid("0000 0000 0000 0000")


@pytest.mark.parametrize(
    ("text", "masked", "original"),
    [
        ("meu cpf é 529.982.247-25", "meu cpf é [CPF_1]", "529.982.247-25"),
        ("meu cpf é 52998224725", "meu cpf é [CPF_1]", "52998224725"),
        ("cpf 123.456.789-09 ok", "cpf [CPF_1] ok", "123.456.789-09"),  # punctuated: masked even if mistyped
        ("CNPJ 11.222.333/0001-81", "CNPJ [CNPJ_1]", "11.222.333/0001-81"),
        ("CNPJ 11222333000181", "CNPJ [CNPJ_1]", "11222333000181"),
        ("cartão 4111 1111 1111 1111 validade 12/29", "cartão [CARTAO_1] validade 12/29", "4111 1111 1111 1111"),
        ("cartao 5500-0000-0000-0004", "cartao [CARTAO_1]", "5500-0000-0000-0004"),
        ("email Joao.Silva@Gmail.com.", "email [EMAIL_1].", "Joao.Silva@Gmail.com"),
        ("zap (11) 98765-4321", "zap [TELEFONE_1]", "(11) 98765-4321"),
        ("+55 11 9 8765 4321 é meu", "[TELEFONE_1] é meu", "+55 11 9 8765 4321"),
    ],
)
def test_each_kind_is_masked(text, masked, original):
    result, mapping = mask_pii(text)
    assert result == masked
    assert list(mapping.values()) == [original]
    assert unmask(result, mapping) == text


@pytest.mark.parametrize(
    "text",
    [
        "cartão 4111 1111 1111 1112",  # fails Luhn
        "pedido 45872, R$ 2.000, 20 mil km",
        "CEP 01310-100",
        "quero o iPhone 15 pro max 256gb",
        "",
    ],
)
def test_no_false_positives(text):
    assert mask_pii(text) == (text, {})


def test_every_occurrence_is_masked_and_the_round_trip_is_exact():
    text = (
        "CPF 529.982.247-25 (repito: 529.982.247-25), tel 11 98765-4321 ou +55 11 98765-4321, "
        "email ana@x.com e ANA@X.COM, cartão 4111111111111111"
    )
    masked, mapping = mask_pii(text)
    assert masked == (
        "CPF [CPF_1] (repito: [CPF_1]), tel [TELEFONE_1] ou [TELEFONE_2], "
        "email [EMAIL_1] e [EMAIL_2], cartão [CARTAO_1]"
    )
    assert not any(ch.isdigit() for ch in masked.replace("_1", "").replace("_2", ""))
    assert unmask(masked, mapping) == text


def test_kinds_can_be_chosen():
    masked, mapping = mask_pii("ana@x.com 11 98765-4321", kinds=("email",))
    assert masked == "[EMAIL_1] 11 98765-4321"
    assert mapping == {"[EMAIL_1]": "ana@x.com"}


def test_unmask_leaves_unknown_placeholders_and_handles_empty_input():
    assert unmask("[EMAIL_9] e [CPF_1]", {"[CPF_1]": "529.982.247-25"}) == "[EMAIL_9] e 529.982.247-25"
    assert unmask("", {"[CPF_1]": "x"}) == ""
    assert unmask("sem nada", {}) == "sem nada"
    assert mask_pii(None) == ("", {})


def test_mask_pii_goes_on_from_an_earlier_mapping():
    first, mapping = mask_pii("ana@x.com e 11 98765-4321")
    second, mapping = mask_pii("bia@y.com ou ana@x.com", mapping=mapping)
    assert first == "[EMAIL_1] e [TELEFONE_1]"
    assert second == "[EMAIL_2] ou [EMAIL_1]", "a known original keeps its placeholder, a new one the next number"
    assert unmask(first + " | " + second, mapping) == "ana@x.com e 11 98765-4321 | bia@y.com ou ana@x.com"

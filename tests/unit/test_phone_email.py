import pytest
from crm_ai_services.emails import find_emails, normalize_email
from crm_ai_services.phone import format_international, normalize_phone, phone_variants


@pytest.mark.parametrize(
    "raw",
    [
        "5511987654321",
        "551187654321",  # WhatsApp id without the ninth digit
        "5511987654321@s.whatsapp.net",
        "5511987654321:12@s.whatsapp.net",
        "(11) 98765-4321",
        "+55 (11) 98765-4321",
        "whatsapp:+5511987654321",
        "0055 11 98765 4321",
    ],
)
def test_brazilian_mobile_forms_are_one_number(raw):
    assert normalize_phone(raw) == "+5511987654321"


def test_variants_cover_both_ninth_digit_forms():
    assert phone_variants("+5511987654321") == ["+5511987654321", "+551187654321"]
    assert phone_variants("+14155552671") == ["+14155552671"]
    assert phone_variants("") == []


@pytest.mark.parametrize("raw", ["", None, "12345", "abc", "1" * 20, "status@broadcast"])
def test_not_a_phone(raw):
    assert normalize_phone(raw) == ""


def test_landline_and_foreign_numbers():
    assert normalize_phone("+55 11 3333-4444") == "+551133334444"
    assert normalize_phone("+1 415 555 2671") == "+14155552671"
    assert normalize_phone("14155552671") == "+14155552671"
    assert format_international("+5511987654321") == "+55 11 98765-4321"


def test_email_normalisation():
    assert normalize_email(" Joao.Silva@Gmail.COM ") == "joao.silva@gmail.com"
    assert normalize_email("not an email") == ""
    assert normalize_email("a@b") == ""
    assert find_emails("meu email é joao@x.com.br, ou JOAO@x.com.br.") == ["joao@x.com.br"]

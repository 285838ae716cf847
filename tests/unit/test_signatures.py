"""Webhook authentication: Meta signatures, tokens, Evolution's HS256 JWT."""

import hashlib
import hmac
import json
import time
from pathlib import Path

import jwt
import pytest
from crm_ai_services import signatures

FIXTURES = Path(__file__).resolve().parent / "fixtures"
APP_SECRET = "6f1c0c3b9e2a4d7f8a1b2c3d4e5f6a7b"


def meta_body():
    """A body serialised as Meta sends it: compact, non-ASCII characters escaped (ensure_ascii=True)."""
    payload = json.loads((FIXTURES / "whatsapp_cloud" / "text.json").read_text(encoding="utf-8"))
    return json.dumps(payload, separators=(",", ":")).encode("ascii")


def sign(body, secret=APP_SECRET):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def test_meta_body_is_ascii_escaped():
    body = meta_body()
    assert b"\\u00e7" in body  # "ç" of "Gonçalves", as Meta escapes it
    assert b"\\ud83d\\ude0a" in body  # the emoji as a surrogate pair


def test_correct_signature_verifies():
    body = meta_body()
    assert signatures.verify_meta_signature(body, sign(body), APP_SECRET)
    assert signatures.verify_meta_signature(bytearray(body), sign(body), APP_SECRET.encode())
    assert signatures.meta_signature(body, APP_SECRET) == sign(body)


def test_uppercase_hex_and_surrounding_spaces_verify():
    body = meta_body()
    header = "sha256=" + sign(body)[len("sha256=") :].upper()
    assert signatures.verify_meta_signature(body, f"  {header} ", APP_SECRET)


@pytest.mark.parametrize(
    "reserialise",
    [
        lambda p: json.dumps(p, ensure_ascii=False, separators=(",", ":")).encode("utf-8"),
        lambda p: json.dumps(p).encode("ascii"),  # default spacing
        lambda p: json.dumps(p, separators=(",", ":"), sort_keys=True).encode("ascii"),
    ],
)
def test_reserialised_body_does_not_verify(reserialise):
    body = meta_body()
    header = sign(body)
    same_content = reserialise(json.loads(body))
    assert json.loads(same_content) == json.loads(body)
    assert same_content != body
    assert not signatures.verify_meta_signature(same_content, header, APP_SECRET)


@pytest.mark.parametrize(
    "header",
    [
        None,
        "",
        "sha256=",
        "sha1=" + "0" * 40,
        "SHA256=placeholder",
        "placeholder-without-prefix",
        "sha256=não-é-hex-ção",
    ],
)
def test_missing_or_malformed_header(header):
    body = meta_body()
    if header == "SHA256=placeholder":
        header = sign(body).replace("sha256=", "SHA256=")
    if header == "placeholder-without-prefix":
        header = sign(body)[len("sha256=") :]
    assert not signatures.verify_meta_signature(body, header, APP_SECRET)


def test_other_secret_does_not_verify():
    body = meta_body()
    assert not signatures.verify_meta_signature(body, sign(body, "outro-segredo"), APP_SECRET)


@pytest.mark.parametrize("secret", ["", None, b""])
def test_empty_secret_fails_closed(secret):
    body = meta_body()
    # even a signature made with an empty key is refused
    header = "sha256=" + hmac.new(b"", body, hashlib.sha256).hexdigest()
    assert not signatures.verify_meta_signature(body, header, secret)


def test_tampered_body_does_not_verify():
    body = meta_body()
    header = sign(body)
    assert not signatures.verify_meta_signature(body.replace(b"3 licen", b"9 licen"), header, APP_SECRET)


def test_body_must_be_bytes():
    body = meta_body()
    assert not signatures.verify_meta_signature(body.decode("ascii"), sign(body), APP_SECRET)
    assert not signatures.verify_meta_signature(None, sign(body), APP_SECRET)


# -- tokens -------------------------------------------------------------------


def test_tokens_equal():
    assert signatures.tokens_equal("s3cr3t-Token_1", "s3cr3t-Token_1")
    assert signatures.tokens_equal(b"abc", "abc")
    assert not signatures.tokens_equal("s3cr3t-Token_1", "s3cr3t-Token_2")
    assert not signatures.tokens_equal("", "")
    assert not signatures.tokens_equal(None, None)
    assert not signatures.tokens_equal("anything", "")
    assert not signatures.tokens_equal("anything", None)
    assert not signatures.tokens_equal(None, "expected")
    assert signatures.tokens_equal("çãé", "çãé")  # non-ASCII does not raise


def test_meta_subscription_challenge():
    assert signatures.meta_subscription_challenge("subscribe", "meu-token", "1158201444", "meu-token") == "1158201444"
    assert signatures.meta_subscription_challenge("subscribe", "errado", "1158201444", "meu-token") is None
    assert signatures.meta_subscription_challenge("unsubscribe", "meu-token", "1", "meu-token") is None
    assert signatures.meta_subscription_challenge("subscribe", "", "1", "") is None


def test_generate_secret():
    secret = signatures.generate_secret()
    assert len(secret) == 43
    assert set(secret) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_")
    assert secret != signatures.generate_secret()
    assert len(signatures.generate_secret(16)) == 22


def test_bearer_token():
    assert signatures.bearer_token("Bearer abc.def.ghi") == "abc.def.ghi"
    assert signatures.bearer_token("bearer  abc ") == "abc"
    assert signatures.bearer_token("Basic dXNlcjpwYXNz") == ""
    assert signatures.bearer_token(None) == ""


# -- HS256 JWT (Evolution API) ------------------------------------------------

JWT_KEY = "chave-jwt-da-instancia-evolution-2025"


def evolution_token(key=JWT_KEY, iat=None, lifetime=600, algorithm="HS256", **claims):
    iat = int(time.time()) if iat is None else iat
    payload = {"iat": iat, "exp": iat + lifetime, "app": "evolution", "action": "webhook", **claims}
    return jwt.encode(payload, key, algorithm=algorithm)


def test_valid_jwt():
    claims = signatures.verify_hs256_jwt(evolution_token(), JWT_KEY)
    assert claims["app"] == "evolution"
    assert claims["action"] == "webhook"


def test_jwt_within_leeway():
    expired_10s_ago = evolution_token(iat=int(time.time()) - 610)
    assert signatures.verify_hs256_jwt(expired_10s_ago, JWT_KEY, leeway=30)
    assert signatures.verify_hs256_jwt(expired_10s_ago, JWT_KEY, leeway=0) is None


def test_expired_jwt():
    assert signatures.verify_hs256_jwt(evolution_token(iat=int(time.time()) - 3600), JWT_KEY) is None


def test_jwt_issued_in_the_future():
    assert signatures.verify_hs256_jwt(evolution_token(iat=int(time.time()) + 3600), JWT_KEY) is None


def test_jwt_wrong_key_or_empty_key():
    token = evolution_token()
    assert signatures.verify_hs256_jwt(token, "outra-chave-qualquer-com-32-bytes!!") is None
    assert signatures.verify_hs256_jwt(token, "") is None
    assert signatures.verify_hs256_jwt(token, None) is None


def test_jwt_other_algorithms_refused():
    long_key = JWT_KEY * 2
    assert signatures.verify_hs256_jwt(evolution_token(key=long_key, algorithm="HS512"), long_key) is None
    unsigned = jwt.encode({"iat": int(time.time()), "exp": int(time.time()) + 600}, None, algorithm="none")
    assert signatures.verify_hs256_jwt(unsigned, JWT_KEY) is None


def test_jwt_without_exp_refused():
    token = jwt.encode({"iat": int(time.time()), "app": "evolution"}, JWT_KEY, algorithm="HS256")
    assert signatures.verify_hs256_jwt(token, JWT_KEY) is None


@pytest.mark.parametrize("token", ["", None, "abc", "a.b.c", "Bearer x", 42])
def test_jwt_garbage(token):
    assert signatures.verify_hs256_jwt(token, JWT_KEY) is None


@pytest.mark.filterwarnings("ignore:The HMAC key is")
def test_jwt_short_key_as_configured_in_evolution():
    assert signatures.verify_hs256_jwt(evolution_token(key="curta"), "curta")

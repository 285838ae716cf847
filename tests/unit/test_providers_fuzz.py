"""Property-based fuzzing of the parsers (skipped when hypothesis is not installed).

Random JSON, alone and inside each provider's envelope, must give items or a
PayloadError, never another exception.
"""

import json

import pytest

hypothesis = pytest.importorskip("hypothesis")
from crm_ai_services.inbound import PayloadError  # noqa: E402
from crm_ai_services.providers import registry  # noqa: E402
from hypothesis import HealthCheck, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402
from test_providers_registry import check_result  # noqa: E402

KEYS = st.sampled_from(
    """
    id from type text body message messages statuses status contacts wa_id user_id from_user_id profile name
    timestamp image caption mime_type interactive button_reply list_reply button payload location latitude
    longitude reaction errors context sender recipient mid attachments url quick_reply postback is_echo read
    delivery mids watermark chat message_id date edit_date photo file_id contact phone_number callback_query
    data key remoteJid remoteJidAlt fromMe pushName conversation imageMessage base64 messageTimestamp keyId
    visitor_id x
    """.split()
)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20)
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(KEYS | st.text(max_size=5), children, max_size=5),
    max_leaves=30,
)

ENVELOPES = {
    "whatsapp_cloud": lambda v: {
        "object": "whatsapp_business_account",
        "entry": [
            {"id": "1", "changes": [{"field": "messages", "value": v if isinstance(v, dict) else {"messages": v}}]}
        ],
    },
    "instagram": lambda v: {"object": "instagram", "entry": [{"id": "1", "messaging": [v, {"message": v}]}]},
    "messenger": lambda v: {"object": "page", "entry": [{"id": "1", "messaging": [v, {"postback": v}]}]},
    "telegram": lambda v: {"update_id": 1, "message": v if isinstance(v, dict) else {"chat": v}},
    "whatsapp_evolution": lambda v: {"event": "messages.upsert", "data": v if isinstance(v, dict) else {"key": v}},
    "webchat": lambda v: {"visitor_id": "abcdefgh", "message_id": "a1b2c3d4-e5f6-4711-8899-aabbccddeeff", "text": v},
}
FUZZ = settings(max_examples=150, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


def run(channel, body):
    try:
        result = registry.parse_for(channel, body)
    except PayloadError:
        return
    check_result(result)


@pytest.mark.parametrize("channel", sorted(registry.PARSERS))
@FUZZ
@given(body=JSON)
def test_random_json(channel, body):
    run(channel, body)


@pytest.mark.parametrize("channel", sorted(registry.PARSERS))
@FUZZ
@given(value=JSON)
def test_random_json_inside_the_envelope(channel, value):
    run(channel, ENVELOPES[channel](value))


@pytest.mark.parametrize("channel", ["whatsapp_cloud", "whatsapp_evolution", "telegram"])
@FUZZ
@given(value=JSON, kind=st.sampled_from(["text", "image", "interactive", "location", "contacts", "reaction"]))
def test_random_message_bodies(channel, value, kind):
    if channel == "whatsapp_cloud":
        message = {"from": "5511987654321", "id": "wamid.X", "timestamp": "1", "type": kind, kind: value}
        body = ENVELOPES[channel]({"contacts": [{"wa_id": "5511987654321"}], "messages": [message]})
    elif channel == "whatsapp_evolution":
        names = {"text": "conversation", "image": "imageMessage", "interactive": "listResponseMessage"}
        message = {names.get(kind, kind + "Message"): value}
        body = ENVELOPES[channel]({"key": {"remoteJid": "5511987654321@s.whatsapp.net", "id": "X"}, "message": message})
    else:
        names = {"image": "photo", "interactive": "reply_to_message", "contacts": "contact"}
        message = {"message_id": 1, "chat": {"id": 1, "type": "private"}, names.get(kind, kind): value}
        body = ENVELOPES[channel](message)
    run(channel, json.loads(json.dumps(body)))

"""Parser registry and robustness of every parser against bodies of the wrong shape.

A parser may only return items or raise PayloadError: anything else would be a
500 on a public endpoint. Each fixture is mutated at every position (a value
replaced by values of other types, a key removed) and every parser is fed every
other provider's fixtures and a corpus of odd JSON.
"""

import copy
import json
from pathlib import Path

import pytest
from crm_ai_services.inbound import KINDS, MESSAGE_TYPES, STATUSES, Attachment, InboundItem, PayloadError
from crm_ai_services.providers import registry

FIXTURES = Path(__file__).resolve().parent / "fixtures"
FIXTURE_DIRS = {
    "whatsapp_cloud": "whatsapp_cloud",
    "whatsapp_evolution": "evolution",
    "instagram": "instagram",
    "messenger": "messenger",
    "telegram": "telegram",
    "webchat": "webchat",
}
GARBAGE_VALUES = [
    None,
    True,
    0,
    -1,
    1.5,
    10**30,
    "",
    "x",
    "ção 😀 \u202e",
    "\x00",
    "\ud83d",
    [],
    [None],
    [1, "a"],
    {},
    {"id": None},
    {"": {}},
]
ODD_BODIES = [
    None,
    True,
    0,
    3.14,
    "",
    "texto",
    [],
    [{}],
    [{"object": "whatsapp_business_account"}],
    {},
    {"object": None},
    {"object": "whatsapp_business_account", "entry": None},
    {"object": "whatsapp_business_account", "entry": [None, 1, "x"]},
    {"object": "whatsapp_business_account", "entry": [{"changes": [None]}]},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": []}]}]},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"field": "messages", "value": {"messages": 1}}]}]},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"messages": [None, 1, []]}}]}]},
    {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": {"statuses": [{"id": []}]}}]}]},
    {"object": "instagram", "entry": [{"messaging": [None, {}, {"message": None}, {"message": {"mid": 5}}]}]},
    {"object": "page", "entry": [{"messaging": [{"delivery": {"mids": [None, 1, {}]}}, {"read": []}]}]},
    {"object": "page", "entry": [{"messaging": [{"postback": {}}, {"reaction": {"mid": []}}]}]},
    {"update_id": 1},
    {"update_id": 1, "message": None},
    {"update_id": 1, "message": {}},
    {"update_id": 1, "message": {"chat": {"id": 1, "type": "private"}, "message_id": 1, "photo": [None, {}, 1]}},
    {"update_id": 1, "callback_query": {}},
    {"update_id": -(10**20), "edited_message": {"chat": [], "message_id": {}}},
    {"event": None, "data": None},
    {"event": 5, "data": {}},
    {"event": "messages.upsert", "data": {}},
    {"event": "messages.upsert", "data": {"key": "x"}},
    {"event": "messages.upsert", "data": {"key": {"remoteJid": "@lid", "id": "1"}, "message": []}},
    {"event": "messages.upsert", "data": {"key": {"remoteJid": 1, "id": 1}, "message": {"imageMessage": 1}}},
    {"event": "messages.update", "data": [{"status": 99}, {"keyId": "1", "status": None}]},
    {"event": "connection.update", "data": "open"},
    {"visitor_id": "abcdefgh", "message_id": "not-uuid", "text": "oi"},
    {"visitor_id": ["abcdefgh"], "message_id": None},
]


def fixture_bodies():
    for channel, folder in FIXTURE_DIRS.items():
        for path in sorted((FIXTURES / folder).glob("*.json")):
            yield channel, path.name, json.loads(path.read_text(encoding="utf-8"))


def mutations(body):
    """Copies of ``body`` with one value replaced by garbage or one key removed, at every position."""
    paths = []

    def walk(node, path):
        if isinstance(node, dict):
            for key, value in node.items():
                paths.append((*path, key))
                walk(value, (*path, key))
        elif isinstance(node, list):
            for index, value in enumerate(node):
                paths.append((*path, index))
                walk(value, (*path, index))

    walk(body, ())
    for path in paths:
        for garbage in [*GARBAGE_VALUES, ...]:
            mutated = copy.deepcopy(body)
            parent = mutated
            for step in path[:-1]:
                parent = parent[step]
            if garbage is ...:
                if isinstance(parent, dict):
                    del parent[path[-1]]
                else:
                    parent.pop(path[-1])
            else:
                parent[path[-1]] = copy.deepcopy(garbage)
            yield mutated
    for garbage in GARBAGE_VALUES:
        yield garbage


def check_result(result):
    assert isinstance(result, list)
    for item in result:
        assert isinstance(item, InboundItem)
        assert item.kind in KINDS
        assert isinstance(item.external_id, str) and item.external_id
        assert item.message_type in MESSAGE_TYPES
        assert item.status in ("", *STATUSES)
        assert all(isinstance(a, Attachment) for a in item.attachments)
        assert all(isinstance(i, str) for i in item.sender_alt_ids)
        for value in (item.sender_id, item.name, item.username, item.phone, item.text, item.reply_to_id):
            assert isinstance(value, str)
            assert "\x00" not in value
            value.encode("utf-8")  # storable: no lone surrogate
        json.dumps(item.to_dict())


def run(channel, body):
    try:
        result = registry.parse_for(channel, body)
    except PayloadError:
        return None
    check_result(result)
    return result


def test_registry_lists_every_channel():
    assert set(registry.PARSERS) == set(FIXTURE_DIRS)
    with pytest.raises(LookupError):
        registry.parse_for("carrier_pigeon", {})


def test_parse_for_dispatches():
    body = json.loads((FIXTURES / "telegram" / "text.json").read_text(encoding="utf-8"))
    [item] = registry.parse_for("telegram", body)
    assert item.external_id == "583920174:1542"


@pytest.mark.parametrize("channel", sorted(FIXTURE_DIRS))
def test_fixtures_parse_to_valid_items(channel):
    count = 0
    for fixture_channel, name, body in fixture_bodies():
        if fixture_channel == channel:
            result = registry.parse_for(channel, body)
            check_result(result)
            assert result, name
            assert len({i.external_id for i in result}) == len(result), name
            count += 1
    assert count >= 3


@pytest.mark.parametrize("channel", sorted(FIXTURE_DIRS))
def test_other_providers_bodies_are_refused(channel):
    for fixture_channel, name, body in fixture_bodies():
        if fixture_channel == channel or {channel, fixture_channel} == {"instagram", "messenger"}:
            continue
        with pytest.raises(PayloadError):
            registry.parse_for(channel, body)
            pytest.fail(f"{channel} accepted {fixture_channel}/{name}")


@pytest.mark.parametrize("channel", sorted(FIXTURE_DIRS))
def test_odd_bodies(channel):
    for body in ODD_BODIES:
        run(channel, copy.deepcopy(body))


@pytest.mark.parametrize("channel", sorted(FIXTURE_DIRS))
def test_every_single_mutation_of_the_fixtures(channel):
    for fixture_channel, _name, body in fixture_bodies():
        if fixture_channel != channel:
            continue
        for mutated in mutations(body):
            run(channel, mutated)


def test_deep_nesting_is_refused_or_parsed():
    deep = current = {}
    for _ in range(200):
        current["message"] = {}
        current = current["message"]
    for channel in FIXTURE_DIRS:
        run(channel, {"update_id": 1, **deep})
        run(channel, {"event": "messages.upsert", "data": deep})

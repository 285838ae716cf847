"""Small tolerant accessors shared by the provider parsers.

Provider bodies are untrusted JSON: every nested value may have any type. These
helpers turn a value of the wrong type into an empty one, so that parsers never
raise ``KeyError`` / ``TypeError`` / ``AttributeError`` on odd input.
"""

import hashlib
import json
import math


def as_dict(value):
    return value if isinstance(value, dict) else {}


def as_list(value):
    return value if isinstance(value, list) else []


def as_str(value):
    """Strings, storable in PostgreSQL (no NUL, no lone surrogate), ints as text, else ``""``."""
    if isinstance(value, str):
        try:
            value.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogate from a "\ud83d"-style escape
            value = value.encode("utf-8", "replace").decode("utf-8")
        return value.replace("\x00", "")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return ""


def as_float(value):
    """A finite number (int, float or numeric string) or ``None``."""
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def dig(data, *path):
    """``data[path[0]][path[1]]...`` where every step must be a dict key or a list index, else ``None``."""
    for step in path:
        if isinstance(step, int) and isinstance(data, list):
            data = data[step] if -len(data) <= step < len(data) else None
        elif isinstance(data, dict):
            data = data.get(step)
        else:
            return None
    return data


def content_id(prefix, data):
    """Deterministic id for items the provider gives no id to: ``prefix:<sha256 of canonical JSON>``.

    The same content delivered twice gets the same id, so redeliveries deduplicate.
    """
    try:
        canonical = json.dumps(data, sort_keys=True, ensure_ascii=False, separators=(",", ":"), default=repr)
    except (TypeError, ValueError):  # keys of mixed types, circular data: not from JSON, still stable
        canonical = repr(data)
    digest = hashlib.sha256(canonical.encode("utf-8", "surrogatepass")).hexdigest()[:40]
    return f"{prefix}:{digest}"


def location(latitude, longitude, name="", address="", url=""):
    """Location dict with only the keys that have a value; empty when coordinates are missing."""
    lat, lon = as_float(latitude), as_float(longitude)
    if lat is None or lon is None:
        return {}
    result = {"latitude": lat, "longitude": lon}
    for key, value in (("name", name), ("address", address), ("url", url)):
        text = as_str(value)
        if text:
            result[key] = text
    return result


def unique(values):
    """Non-empty strings of ``values``, in order, without duplicates."""
    seen = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen

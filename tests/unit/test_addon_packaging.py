"""Packaging files of the three addons: pyproject.toml, readme fragments, Apps icon and page."""

import struct
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ADDONS = ("crm_ai_agent", "crm_ai_agent_campaigns", "crm_ai_agent_dashboard")
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
WHOOL_PYPROJECT = '[build-system]\nrequires = ["whool"]\nbuild-backend = "whool.buildapi"\n'


@pytest.mark.parametrize("addon", ADDONS)
def test_pyproject_uses_whool(addon):
    """As OCA's addons: the whool backend builds the package from the manifest."""
    assert (ROOT / addon / "pyproject.toml").read_text() == WHOOL_PYPROJECT


@pytest.mark.parametrize("addon", ADDONS)
@pytest.mark.parametrize("fragment", ["DESCRIPTION.md", "USAGE.md", "CONFIGURE.md"])
def test_readme_fragment(addon, fragment):
    text = (ROOT / addon / "readme" / fragment).read_text()
    assert len(text.split()) >= 60, "too short to help anyone"
    # Fragments are inserted under headings of the generated README: no title of their own.
    assert not text.lstrip().startswith("#")


def test_configure_gives_the_paths_and_the_embed_code():
    text = (ROOT / "crm_ai_agent" / "readme" / "CONFIGURE.md").read_text()
    for needed in ("CRM > Configuration > AI Channels", "Settings > CRM AI Agent", "Webhook URL", "<script src="):
        assert needed in text


@pytest.mark.parametrize("addon", ADDONS)
def test_icon_is_a_square_png(addon):
    data = (ROOT / addon / "static" / "description" / "icon.png").read_bytes()
    assert data[:8] == PNG_SIGNATURE
    length, chunk, width, height = struct.unpack(">I4sII", data[8:24])
    assert chunk == b"IHDR" and length == 13
    assert (width, height) in {(128, 128), (256, 256)}


def test_icons_differ():
    icons = {(ROOT / a / "static" / "description" / "icon.png").read_bytes() for a in ADDONS}
    assert len(icons) == len(ADDONS)


class _PageChecker(HTMLParser):
    VOID = {"br", "hr", "img", "meta", "input"}

    def __init__(self):
        super().__init__()
        self.open_tags, self.problems, self.sections = [], [], 0

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "link", "iframe", "style", "object", "embed"):
            self.problems.append(f"<{tag}>")
        for name, value in attrs:
            if name.startswith("on"):
                self.problems.append(f"{name}=")
            if name in ("src", "href") and value and ("//" in value or value.startswith("data:")):
                self.problems.append(f"{name}={value}")
        if tag == "section":
            self.sections += 1
        if tag not in self.VOID:
            self.open_tags.append(tag)

    def handle_endtag(self, tag):
        expected = self.open_tags.pop() if self.open_tags else None
        if expected != tag:
            self.problems.append(f"</{tag}> closes <{expected}>")


@pytest.mark.parametrize("addon", ADDONS)
def test_apps_page(addon):
    checker = _PageChecker()
    checker.feed((ROOT / addon / "static" / "description" / "index.html").read_text())
    checker.close()
    assert not checker.problems
    assert not checker.open_tags
    assert checker.sections >= 3

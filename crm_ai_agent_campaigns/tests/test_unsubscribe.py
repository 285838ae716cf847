"""The unsubscribe link of campaign and follow-up e-mails."""

from urllib.parse import parse_qs, urlparse

from odoo.tests import HttpCase, tagged


@tagged("post_install", "-at_install", "crm_ai_agent_campaigns")
class TestUnsubscribe(HttpCase):
    def test_link_blacklists_the_address_and_refuses_forged_tokens(self):
        Mail = self.env["mail.mail"]
        url = urlparse(Mail._ai_unsubscribe_url("rita@cliente.example"))
        params = {k: v[0] for k, v in parse_qs(url.query).items()}
        Blacklist = self.env["mail.blacklist"].sudo()

        response = self.url_open(f"{url.path}?{url.query}")
        self.assertEqual(response.status_code, 200)
        self.assertIn("rita@cliente.example", response.text)
        self.assertIn("<form method='post'>", response.text)
        self.assertFalse(Blacklist.search_count([("email", "=", "rita@cliente.example")]), "a GET changes nothing")

        forged = self.url_open(url.path, data={"email": "rita@cliente.example", "token": "0" * 64})
        self.assertEqual(forged.status_code, 403)
        other = self.url_open(url.path, data={"email": "other@cliente.example", "token": params["token"]})
        self.assertEqual(other.status_code, 403, "a token is valid for its own address only")
        self.assertFalse(Blacklist.search_count([("email", "in", ["rita@cliente.example", "other@cliente.example"])]))

        done = self.url_open(url.path, data=params)
        self.assertEqual(done.status_code, 200)
        self.assertTrue(Blacklist.search_count([("email", "=", "rita@cliente.example")]))

    def test_name_in_the_address_is_escaped(self):
        Mail = self.env["mail.mail"]
        email = "<script>alert(1)</script>@x.example"
        url = urlparse(Mail._ai_unsubscribe_url(email))
        response = self.url_open(f"{url.path}?{url.query}")
        self.assertNotIn("<script>", response.text)

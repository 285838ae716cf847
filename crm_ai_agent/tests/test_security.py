"""Record rules and field access: 2 companies x 2 salespeople (shared/SECURITY.md items 9, 10, 13, 14)."""

import json

from odoo.exceptions import AccessError
from odoo.tests import new_test_user, tagged

from .common import APP_SECRET, CrmAiCase, wa_text


@tagged("post_install", "-at_install", "crm_ai_agent")
class TestSecurity(CrmAiCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.company_b = cls.env["res.company"].create({"name": "Loja B"})
        cls.team_b = cls.env["crm.team"].create({"name": "Equipe B", "company_id": cls.company_b.id})
        cls.sales_b = new_test_user(
            cls.env,
            login="crm_ai_sales_b",
            name="Vendedor B",
            groups="sales_team.group_sale_salesman",
            company_id=cls.company_b.id,
            company_ids=[(6, 0, [cls.company_b.id])],
        )
        cls.wa_b = cls.env["crm.ai.channel"].create(
            {
                "name": "WA B",
                "channel_type": "whatsapp_cloud",
                "company_id": cls.company_b.id,
                "team_id": cls.team_b.id,
                "meta_app_secret": APP_SECRET,
                "api_base_url": cls.fake.url,
            }
        )

    def _capture(self, channel, wamid, wa_id, user=None):
        self.post_meta(channel, wa_text(wamid, wa_id, "Quero saber o preço", name=f"Cliente {wamid}"))
        self.process()
        message = self.env["crm.ai.message"].search([("external_id", "=", wamid)])
        if user is not None:
            message.lead_id.user_id = user
        return message

    def test_companies_are_isolated(self):
        msg_a = self._capture(self.wa, "wamid.SA1", "5511900000001", self.salesman_1)
        msg_b = self._capture(self.wa_b, "wamid.SB1", "5511900000002", self.sales_b)
        self.assertEqual(msg_b.lead_id.company_id, self.company_b)
        self.assertEqual(msg_b.company_id, self.company_b)
        Channel_b = self.env["crm.ai.channel"].with_user(self.sales_b)
        self.assertEqual(Channel_b.search([]), self.wa_b)
        Message_b = self.env["crm.ai.message"].with_user(self.sales_b)
        self.assertEqual(Message_b.search([]), msg_b)
        with self.assertRaises(AccessError):
            msg_a.with_user(self.sales_b).read(["body"])
        Identity_b = self.env["crm.ai.identity"].with_user(self.sales_b)
        self.assertEqual(Identity_b.search([]), msg_b.identity_id)
        self.assertNotIn(msg_a.lead_id, self.env["crm.lead"].with_user(self.sales_b).search([]))

    def test_salespeople_see_their_own_conversations(self):
        mine = self._capture(self.wa, "wamid.OWN1", "5511900000011", self.salesman_1)
        theirs = self._capture(self.wa, "wamid.OWN2", "5511900000012", self.salesman_2)
        Message = self.env["crm.ai.message"].with_user(self.salesman_1)
        visible = Message.search([("channel_id", "=", self.wa.id)])
        self.assertIn(mine, visible)
        self.assertNotIn(theirs, visible)
        with self.assertRaises(AccessError):
            theirs.with_user(self.salesman_1).read(["body"])
        # The manager sees both.
        self.assertEqual(
            self.env["crm.ai.message"].with_user(self.manager).search([("channel_id", "=", self.wa.id)]),
            mine | theirs,
        )

    def test_salespeople_cannot_change_channels_or_messages(self):
        message = self._capture(self.wa, "wamid.RO1", "5511900000021", self.salesman_1)
        with self.assertRaises(AccessError):
            self.wa.with_user(self.salesman_1).write({"name": "hijacked"})
        with self.assertRaises(AccessError):
            message.with_user(self.salesman_1).unlink()
        with self.assertRaises(AccessError):
            self.env["crm.ai.channel"].with_user(self.salesman_1).create(
                {"name": "x", "channel_type": "telegram", "team_id": self.team.id}
            )

    def test_secrets_and_payloads_admin_only(self):
        message = self._capture(self.wa, "wamid.PAY1", "5511900000031", self.salesman_1)
        self.assertTrue(message.sudo().payload)
        for user in (self.salesman_1, self.manager):
            fields = self.env["crm.ai.message"].with_user(user).fields_get()
            self.assertNotIn("payload", fields)
            with self.assertRaises(AccessError):
                message.with_user(user).read(["payload"])
            with self.assertRaises(AccessError):
                self.wa.with_user(user).read(["meta_app_secret"])
        self.authenticate("crm_ai_manager", "crm_ai_manager")
        res = self.url_open(
            "/web/dataset/call_kw/crm.ai.channel/read",
            data=json.dumps(
                {
                    "jsonrpc": "2.0",
                    "method": "call",
                    "params": {
                        "model": "crm.ai.channel",
                        "method": "read",
                        "args": [[self.wa.id], ["meta_app_secret"]],
                        "kwargs": {},
                    },
                }
            ),
            headers={"Content-Type": "application/json"},
        )
        self.assertIn("error", res.json())
        self.assertNotIn(APP_SECRET, res.text)

    def test_private_helpers_not_callable_over_rpc(self):
        self.authenticate("admin", "admin")
        with self.assertLogs("odoo.http", "WARNING"):
            res = self.url_open(
                "/web/dataset/call_kw/crm.ai.message/_ai_store_inbound",
                data=json.dumps(
                    {
                        "jsonrpc": "2.0",
                        "method": "call",
                        "params": {
                            "model": "crm.ai.message",
                            "method": "_ai_store_inbound",
                            "args": [self.wa.id, []],
                            "kwargs": {},
                        },
                    }
                ),
                headers={"Content-Type": "application/json"},
            )
        self.assertEqual(res.json()["error"]["data"]["name"], "odoo.exceptions.AccessError")

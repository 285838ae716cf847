import logging

import requests

from odoo import _, models
from odoo.exceptions import UserError

from ..services import inbound, outbound

_logger = logging.getLogger(__name__)

DEFAULT_TIMEOUT = 10  # seconds, every outbound call


class WebhookReject(Exception):
    """Raised by a provider to refuse a webhook request with an HTTP status."""

    def __init__(self, status, reason):
        super().__init__(reason)
        self.status = status
        self.reason = reason


class CrmAiChannelProvider(models.AbstractModel):
    """The verbs every channel type implements.

    Concrete providers are ``crm.ai.channel.provider.<channel_type>`` models
    inheriting this one. They receive the channel record as first argument, so
    they hold no state. Requests are described as plain dicts (``headers``
    with lower-case names, ``raw`` bytes, ``args``) so providers do not depend
    on werkzeug.
    """

    _name = "crm.ai.channel.provider"
    _description = "AI Agent Channel Provider"

    # ------------------------------------------------------------
    # INBOUND
    # ------------------------------------------------------------

    def _ai_webhook_fields(self):
        """Channel fields read by ``_ai_handshake`` / ``_ai_verify_request``: kept in the webhook's
        per-worker cache of the channel (see ``crm.ai.channel._ai_webhook_channel``)."""
        return ()

    def _ai_handshake(self, channel, args):
        """Answer a GET subscription check. Returns the body text, or raises WebhookReject."""
        raise WebhookReject(405, "this channel type has no GET handshake")

    def _ai_verify_request(self, channel, headers, raw):
        """Authenticate a POST before its body is parsed. Raise WebhookReject(403) to refuse."""
        raise NotImplementedError()

    def _ai_parse(self, channel, payload):
        """Body (decoded JSON) -> list of :class:`services.inbound.InboundItem`."""
        raise NotImplementedError()

    def _ai_fetch_media(self, channel, attachment):
        """Bytes of an inbound attachment (``services.inbound.Attachment``) or None."""
        if attachment.data_b64:
            import base64  # noqa: PLC0415

            return base64.b64decode(attachment.data_b64, validate=False)
        if attachment.url:
            return self._ai_request(channel, "GET", attachment.url, raw_response=True).content
        return None

    def _ai_fetch_profile(self, channel, item):
        """Extra data about the sender (e.g. a name from a profile API), as a dict; {} if none."""
        return {}

    # ------------------------------------------------------------
    # OUTBOUND
    # ------------------------------------------------------------

    def _ai_default_api_base_url(self):
        return ""

    def _ai_send(self, channel, message):
        """Send an outbound ``crm.ai.message``; return the provider message id.

        ``message`` holds one thing to send: a text (``body``), one attachment
        (``attachment_ids``) or a template (``template_id`` + ``template_params``),
        addressed to ``message.recipient_key``. Raise :class:`ProviderError`
        (``transient`` for what a later attempt may fix).
        """
        raise UserError(_("Sending is not supported on %s channels.", channel.channel_type))

    def _ai_window(self, channel, identity, now):
        """What may be sent to ``identity`` now (:class:`services.outbound.Window`). Default: anything."""
        return outbound.no_window()

    def _ai_supports_templates(self, channel):
        """Whether this channel sends provider-approved templates (``crm.ai.template``)."""
        return False

    def _ai_attachment_payload(self, attachment):
        """``(filename, bytes, mimetype)`` of an ``ir.attachment`` for a multipart upload."""
        attachment = attachment.sudo()
        return (attachment.name or "file", attachment.raw or b"", attachment.mimetype or "application/octet-stream")

    def _ai_public_url(self, attachment):
        """A URL the provider can download the attachment from (needs a public ``web.base.url``)."""
        attachment = attachment.sudo()
        token = attachment.generate_access_token()[0]
        base_url = self.env["ir.config_parameter"].sudo().get_param("web.base.url", "").rstrip("/")
        return f"{base_url}/web/content/{attachment.id}?access_token={token}&download=true"

    def _ai_test_connection(self, channel):
        return _("Nothing to check for this channel type.")

    def _ai_request(
        self,
        channel,
        method,
        url,
        *,
        json=None,
        data=None,
        files=None,
        headers=None,
        params=None,
        timeout=DEFAULT_TIMEOUT,
        raw_response=False,
    ):
        """The one place outbound HTTP to providers goes through.

        ``url`` is absolute or relative to the channel's API base URL (which
        comes from configuration, never from inbound data). Raises
        :class:`ProviderError` with the provider's message on failure.
        """
        if not url.startswith(("http://", "https://")):
            url = f"{channel._ai_api_base_url()}/{url.lstrip('/')}"
        try:
            response = requests.request(
                method, url, json=json, data=data, files=files, headers=headers, params=params, timeout=timeout
            )
        except requests.Timeout as exc:
            raise ProviderError(_("The provider did not answer in time."), transient=True) from exc
        except requests.RequestException as exc:
            raise ProviderError(_("The provider could not be reached: %s", exc), transient=True) from exc
        if response.status_code >= 400:
            transient = response.status_code == 429 or response.status_code >= 500
            raise ProviderError(
                _("The provider answered %(code)s: %(text)s", code=response.status_code, text=_error_text(response)),
                transient=transient,
                status=response.status_code,
            )
        if raw_response:
            return response
        try:
            return response.json()
        except ValueError:
            return {}


class ProviderError(Exception):
    """An outbound call failed. ``transient`` errors are retried with backoff."""

    def __init__(self, message, transient=False, status=None):
        super().__init__(message)
        self.transient = transient
        self.status = status


def _error_text(response):
    try:
        data = response.json()
    except ValueError:
        return (response.text or "")[:300]
    if isinstance(data, dict):
        err = data.get("error") or data.get("description") or data.get("message") or data
        if isinstance(err, dict):
            err = err.get("message") or err.get("error_user_msg") or err
        return str(err)[:300]
    return str(data)[:300]


__all__ = ["ProviderError", "WebhookReject", "inbound"]

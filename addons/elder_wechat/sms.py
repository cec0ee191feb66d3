# This file is part of the eldercare platform. See LICENSE.
"""SMS through a pluggable gateway.

A gateway is a class registered under a kind::

    from trytond.modules.elder_wechat.sms import Gateway, register_gateway

    class AliyunGateway(Gateway):
        name = "Alibaba Cloud SMS"
        def send(self, message):
            ... call the provider; return its message id or raise SMSError

    register_gateway('aliyun', AliyunGateway)

and selected in the configuration (wechat.configuration sms_gateway). Every
text is logged in wechat.sms.message (phone and text encrypted: they hold
verification codes). The shipped gateway ``outbox`` keeps the messages in
that log for an operator's SMS modem or a provider's batch upload; no
provider is shipped (each needs the operator's contract)."""
import datetime as dt

from trytond.model import ModelSQL, ModelView, fields
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.modules.elder_base.elder import encrypted, normalize_encrypted
from trytond.pool import Pool

_GATEWAYS = {}


class SMSError(Exception):
    "The gateway refused or failed to send"


class Gateway:
    name = None

    def send(self, message):
        "Send the wechat.sms.message; return the provider's id"
        raise NotImplementedError


class OutboxGateway(Gateway):
    name = "Outbox (log only)"

    def send(self, message):
        return 'outbox-%s' % message.id


def register_gateway(kind, cls):
    _GATEWAYS[kind] = cls


def gateway_kinds():
    return [(k, c.name or k) for k, c in sorted(_GATEWAYS.items())]


def gateway(kind):
    return _GATEWAYS[kind]()


register_gateway('outbox', OutboxGateway)

PURPOSES = [
    ('binding_code', "Binding Code"),
    ('notice', "Notice"),
    ]
STATES = [
    ('queued', "Queued"),
    ('sent', "Sent"),
    ('failed', "Failed"),
    ]


class Message(EncryptedMixin, ModelSQL, ModelView):
    "SMS Message"
    __name__ = 'wechat.sms.message'
    _encrypted_fields = {'phone': 'phone', 'text': None}
    _sensitivity = {'phone': 'personal', 'text': 'sensitive'}
    phone = encrypted(fields.Char("Phone", readonly=True))
    phone_enc = fields.Char("Phone (Encrypted)", readonly=True)
    text = encrypted(fields.Text("Text", readonly=True))
    text_enc = fields.Text("Text (Encrypted)", readonly=True)
    purpose = fields.Selection(PURPOSES, "Purpose", readonly=True)
    gateway = fields.Char("Gateway", readonly=True)
    provider_id = fields.Char("Provider ID", readonly=True)
    state = fields.Selection(STATES, "State", readonly=True)
    error = fields.Char("Error", readonly=True)
    sent_at = fields.Timestamp("Sent At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]

    @staticmethod
    def default_state():
        return 'queued'

    @classmethod
    def encrypted_normalize(cls, name, value):
        return normalize_encrypted(name, value)

    @classmethod
    def send(cls, phone, text, purpose):
        """Send a text through the configured gateway and log it; return
        the message (state failed when the gateway failed)"""
        Configuration = Pool().get('wechat.configuration')
        config = Configuration(1)
        message, = cls.create([{
                    'phone': phone,
                    'text': '%s%s' % (config.sms_signature or '', text),
                    'purpose': purpose,
                    'gateway': config.sms_gateway,
                    }])
        try:
            provider_id = gateway(config.sms_gateway).send(message)
        except (SMSError, KeyError) as e:
            cls.write([message], {'state': 'failed', 'error': str(e)[:200]})
        else:
            cls.write([message], {
                    'state': 'sent', 'provider_id': provider_id,
                    'sent_at': dt.datetime.now()})
        return message

# This file is part of the eldercare platform. See LICENSE.
"""WeChat applications (mini program, official account), their message
templates and the access tokens WeChat gives them.

Secrets (app secret, access tokens) are stored encrypted with
elder_security's key file (SM4-GCM, additional data naming the row and the
field), writable and never read back: a client sees ``********`` when one
is set."""
import datetime as dt

from trytond.model import (
    DeactivableMixin, ModelSQL, ModelView, Unique, fields)
from trytond.modules.elder_security.crypto import Keyring
from trytond.pyson import Eval
from trytond.transaction import Transaction

MASK = '********'
KINDS = [
    ('mini_program', "Mini Program"),
    ('official_account', "Official Account"),
    ]
EVENTS = [
    ('alarm', "Device Alarm"),
    ('service_started', "Service Started"),
    ('service_finished', "Service Finished"),
    ('bill', "Bill"),
    ('assessment', "Assessment Result"),
    ('binding', "Binding"),
    ]
API_BASE = 'https://api.weixin.qq.com'
OAUTH_BASE = 'https://open.weixin.qq.com'


class SecretMixin:
    "Write-only secrets kept encrypted in <name>_enc columns"
    __slots__ = ()
    _secrets = ()

    @classmethod
    def get_secret_mask(cls, records, name):
        return {r.id: MASK if getattr(r, name + '_enc') else None
            for r in records}

    @classmethod
    def set_secret(cls, records, name, value):
        if value == MASK:
            return
        for record in records:
            enc = Keyring.get().encrypt(
                value, cls._secret_aad(name, record.id)) if value else None
            cls.write([record], {name + '_enc': enc})

    @classmethod
    def _secret_aad(cls, name, id_):
        return '%s.%s:%s' % (cls.__name__, name, id_)

    def reveal(self, name):
        "The plain secret (server code only; read() hides it)"
        if name not in self._secrets:
            raise ValueError(name)
        table = self.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                getattr(table, name + '_enc'), where=table.id == self.id))
        row = cursor.fetchone()
        if not row or not row[0]:
            return None
        return Keyring.get().decrypt(row[0], self._secret_aad(name, self.id))

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        hidden = {n + '_enc' for n in cls._secrets}
        for row in result:
            for name in hidden & set(row):
                row[name] = None
        return result

    @classmethod
    def copy(cls, records, default=None):
        default = dict(default or {})
        for name in cls._secrets:
            default.setdefault(name + '_enc', None)
        return super().copy(records, default=default)


class Account(SecretMixin, DeactivableMixin, ModelSQL, ModelView):
    "WeChat Application (微信公众号/小程序)"
    __name__ = 'wechat.account'
    _secrets = ('secret',)
    _sensitivity = {'secret': 'sensitive', 'secret_enc': 'sensitive'}

    name = fields.Char("Name", required=True)
    kind = fields.Selection(KINDS, "Kind", required=True)
    appid = fields.Char("App ID", required=True, strip=True)
    secret = fields.Function(fields.Char(
            "App Secret", help="Write only: stored encrypted."),
        'get_secret_mask', setter='set_secret')
    secret_enc = fields.Char("App Secret (Encrypted)", readonly=True)
    api_base = fields.Char("API Base URL", required=True,
        help="https://api.weixin.qq.com; a local stand-in in tests.")
    oauth_base = fields.Char("OAuth Base URL",
        states={'invisible': Eval('kind') != 'official_account'},
        help="https://open.weixin.qq.com for the official account's web "
        "authorisation.")
    oauth_redirect = fields.Char("OAuth Redirect URL",
        states={'invisible': Eval('kind') != 'official_account'},
        help="The H5 family page's address WeChat sends the user back to.")
    templates = fields.One2Many(
        'wechat.template', 'account', "Message Templates")
    timeout = fields.Integer("Timeout (seconds)", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('appid_uniq', Unique(t, t.appid),
                'elder_wechat.msg_account_appid_unique'),
            ]

    @staticmethod
    def default_kind():
        return 'mini_program'

    @staticmethod
    def default_api_base():
        return API_BASE

    @staticmethod
    def default_oauth_base():
        return OAUTH_BASE

    @staticmethod
    def default_timeout():
        return 10

    def get_rec_name(self, name):
        return '%s (%s)' % (self.name, self.appid)

    @classmethod
    def by_appid(cls, appid):
        if not isinstance(appid, str):
            return None
        accounts = cls.search([('appid', '=', appid)], limit=1)
        return accounts[0] if accounts else None

    def template_for(self, event):
        for template in self.templates:
            if template.event == event and template.active:
                return template

    def client(self):
        "A wechatpy client of the account (see client.py)"
        from .client import client_for
        return client_for(self)


class Template(DeactivableMixin, ModelSQL, ModelView):
    "WeChat Message Template"
    __name__ = 'wechat.template'
    account = fields.Many2One(
        'wechat.account', "Application", required=True, ondelete='CASCADE')
    event = fields.Selection(EVENTS, "Event", required=True)
    template_id = fields.Char("Template ID", required=True, strip=True)
    page = fields.Char("Page",
        help="The mini program page (or H5 address) the message opens.")
    fields_map = fields.Text("Fields",
        help="One line per template field: <field>=<value name>, e.g. "
        "thing1=elder, time2=time, phrase3=kind. Value names: elder, kind, "
        "time, item, state, amount, note.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('event_uniq', Unique(t, t.account, t.event),
                'elder_wechat.msg_template_event_unique'),
            ]

    def render(self, values):
        "The data of the message from the values of the event"
        data = {}
        for line in (self.fields_map or '').splitlines():
            field, _, name = line.partition('=')
            field, name = field.strip(), name.strip()
            if not field or not name:
                continue
            value = str(values.get(name) or '-')
            # WeChat's limits: thing ≤ 20 characters, others ≤ 32
            size = 20 if field.startswith('thing') else 32
            data[field] = {'value': value[:size]}
        return data


class Token(ModelSQL):
    """WeChat access token (shared by every server process, stored
    encrypted): wechatpy's session storage"""
    __name__ = 'wechat.token'
    _sensitivity = {'value_enc': 'sensitive', 'key': 'internal'}
    key = fields.Char("Key", required=True)
    value_enc = fields.Char("Value (Encrypted)")
    expires_at = fields.Timestamp("Expires At")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_uniq', Unique(t, t.key), 'elder_wechat.msg_token_unique'),
            ]

    @classmethod
    def read(cls, ids, fields_names):
        result = super().read(ids, fields_names)
        for row in result:
            if 'value_enc' in row:
                row['value_enc'] = None
        return result

    @classmethod
    def get_value(cls, key):
        tokens = cls.search([('key', '=', key)], limit=1)
        if not tokens:
            return None
        token, = tokens
        if token.expires_at and token.expires_at <= dt.datetime.now():
            return None
        return Keyring.get().decrypt(token.value_enc, 'wechat.token:' + key)

    @classmethod
    def set_value(cls, key, value, ttl=None):
        expires = (dt.datetime.now() + dt.timedelta(seconds=ttl)
            if ttl else None)
        values = {
            'value_enc': Keyring.get().encrypt(
                str(value), 'wechat.token:' + key),
            'expires_at': expires,
            }
        tokens = cls.search([('key', '=', key)], limit=1)
        if tokens:
            cls.write(tokens, values)
        else:
            cls.create([{'key': key, **values}])

    @classmethod
    def delete_value(cls, key):
        cls.delete(cls.search([('key', '=', key)]))


def registered(pool, name):
    "Whether the model is in the pool (an optional module is activated)"
    try:
        pool.get(name)
    except KeyError:
        return False
    return True

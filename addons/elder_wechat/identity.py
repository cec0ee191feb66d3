# This file is part of the eldercare platform. See LICENSE.
"""WeChat identities: an open id of a configured application, mapped to a
platform web user (web_user's web.user, created at the first login).

The same person in the mini program and the official account has two open
ids; with a union id (the applications are bound to one open-platform
account) both identities map to one web user."""
import datetime as dt
import hashlib

from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool


class Identity(ModelSQL, ModelView):
    "WeChat Identity"
    __name__ = 'wechat.identity'
    _sensitivity = {'openid': 'personal', 'unionid': 'personal',
        'web_user': 'personal'}
    account = fields.Many2One(
        'wechat.account', "Application", required=True, readonly=True,
        ondelete='RESTRICT')
    openid = fields.Char("Open ID", required=True, readonly=True)
    unionid = fields.Char("Union ID", readonly=True)
    web_user = fields.Many2One(
        'web.user', "Web User", required=True, readonly=True,
        ondelete='CASCADE')
    first_login = fields.Timestamp("First Login", readonly=True)
    last_login = fields.Timestamp("Last Login", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('openid_uniq', Unique(t, t.account, t.openid),
                'elder_wechat.msg_identity_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.unionid, Index.Equality())),
                Index(t, (t.web_user, Index.Range())),
                })

    @classmethod
    def login(cls, account, openid, unionid=None):
        """Return the identity of the open id, with a new web user at the
        first login"""
        pool = Pool()
        WebUser = pool.get('web.user')
        Party = pool.get('party.party')
        now = dt.datetime.now().replace(microsecond=0)
        identities = cls.search([
                ('account', '=', account.id), ('openid', '=', openid)],
            limit=1)
        if identities:
            identity, = identities
            values = {'last_login': now}
            if unionid and not identity.unionid:
                values['unionid'] = unionid
            cls.write([identity], values)
            return identity
        web_user = None
        if unionid:
            others = cls.search([('unionid', '=', unionid)], limit=1)
            if others:
                web_user = others[0].web_user
        if web_user is None:
            digest = hashlib.sha256(
                ('%s:%s' % (account.appid, openid)).encode()).hexdigest()
            party, = Party.create([{
                        'name': '微信用户%s' % digest[:6].upper()}])
            # RFC 2606 .invalid: the account has no mailbox and no
            # password, it logs in through WeChat only.
            web_user, = WebUser.create([{
                        'email': 'wx-%s@wechat.invalid' % digest[:32],
                        'party': party.id,
                        }])
        identity, = cls.create([{
                    'account': account.id, 'openid': openid,
                    'unionid': unionid, 'web_user': web_user.id,
                    'first_login': now, 'last_login': now,
                    }])
        return identity

    @classmethod
    def of_user(cls, web_user, kind=None):
        domain = [('web_user', '=', web_user.id),
            ('account.active', '=', True)]
        if kind:
            domain.append(('account.kind', '=', kind))
        return cls.search(domain, order=[('last_login', 'DESC')])

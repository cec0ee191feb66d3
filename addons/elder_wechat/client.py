# This file is part of the eldercare platform. See LICENSE.
"""wechatpy clients of a configured account.

wechatpy's URLs are fixed (https://api.weixin.qq.com/...): a URL-rewriting
transport adapter mounted on the client's requests session sends them to
the account's API base instead (WeChat's servers in production, the local
stand-in in tests). Access tokens live in the database (wechat.token)
through a wechatpy session storage, so every server process shares them."""
import urllib.parse

from requests.adapters import HTTPAdapter
from wechatpy import WeChatClient
from wechatpy.oauth import WeChatOAuth
from wechatpy.session import SessionStorage

from trytond.pool import Pool
from trytond.transaction import without_check_access

from .account import API_BASE, OAUTH_BASE


class RewritingAdapter(HTTPAdapter):
    "Send requests for one base URL to another"

    def __init__(self, source, target, **kwargs):
        super().__init__(**kwargs)
        self.source = source.rstrip('/')
        self.target = target.rstrip('/')

    def send(self, request, **kwargs):
        if request.url.startswith(self.source):
            request.url = self.target + request.url[len(self.source):]
        return super().send(request, **kwargs)


def mount(session, account):
    for source, target in [
            (API_BASE, account.api_base),
            (OAUTH_BASE, account.oauth_base or OAUTH_BASE)]:
        if target and target.rstrip('/') != source:
            session.mount(source + '/', RewritingAdapter(source, target))


class DatabaseStorage(SessionStorage):
    "wechatpy session storage in wechat.token"

    def get(self, key, default=None):
        Token = Pool().get('wechat.token')
        with without_check_access():
            value = Token.get_value(key)
        return default if value is None else value

    def set(self, key, value, ttl=None):
        Token = Pool().get('wechat.token')
        with without_check_access():
            Token.set_value(key, value, ttl)

    def delete(self, key):
        Token = Pool().get('wechat.token')
        with without_check_access():
            Token.delete_value(key)


def client_for(account):
    client = WeChatClient(account.appid, account.reveal('secret'),
        session=DatabaseStorage(), timeout=account.timeout)
    mount(client._http, account)
    return client


def oauth_for(account, redirect_uri=None, scope='snsapi_base', state=''):
    oauth = WeChatOAuth(account.appid, account.reveal('secret'),
        redirect_uri or account.oauth_redirect or '', scope=scope,
        state=state)
    mount(oauth._http, account)
    return oauth


def authorize_url(account, redirect_uri, state):
    "The official account's web authorisation address (snsapi_base)"
    base = (account.oauth_base or OAUTH_BASE).rstrip('/')
    return '%s/connect/oauth2/authorize?%s#wechat_redirect' % (
        base, urllib.parse.urlencode([
                ('appid', account.appid), ('redirect_uri', redirect_uri),
                ('response_type', 'code'), ('scope', 'snsapi_base'),
                ('state', state)]))

# This file is part of the eldercare platform. See LICENSE.
"""A local stand-in for WeChat's servers (api.weixin.qq.com,
open.weixin.qq.com and api.mch.weixin.qq.com) on 127.0.0.1, for tests and
the demo. It checks what WeChat checks and answers WeChat's error codes:

- ``GET /cgi-bin/token``: app id (40013) and secret (40125); access tokens
  expire (``expire_tokens()`` makes them answer 42001).
- ``GET /sns/jscode2session`` (mini program login) and
  ``GET /sns/oauth2/access_token`` (official-account OAuth): the secret,
  a login code of this app (40029 invalid code), used once (40163), valid
  five minutes.
- ``GET /connect/oauth2/authorize``: the page WeChat shows before
  redirecting back with ``?code=…&state=…`` (the browser's user is
  ``oauth_user[appid]``).
- ``POST /cgi-bin/message/subscribe/send`` (mini program subscribe
  message) and ``/cgi-bin/message/template/send`` (official account): access
  token (40001 / 42001), open id of this app (40003), template (40037),
  the user's acceptance of the template (43101), data fields (47003);
  ``fail_next(n)`` answers -1 "system error" n times (for the retries).
- WeChat Pay v3 ``POST /v3/pay/transactions/jsapi``,
  ``GET /v3/pay/transactions/out-trade-no/<no>``,
  ``POST /v3/refund/domestic/refunds``: the merchant's ``Authorization``
  (WECHATPAY2-SHA256-RSA2048 over method, path, timestamp ±5 min, nonce
  and body, with the merchant's registered public key; 401 SIGN_ERROR),
  answers signed with the platform key (``Wechatpay-*`` headers, public key
  id as serial); payment and refund notifications signed the same way with
  ``resource`` encrypted by AEAD_AES_256_GCM under the APIv3 key.
- ``POST /standin/requestPayment``: what ``wx.requestPayment`` /
  ``WeixinJSBridge getBrandWCPayRequest`` do on the phone: check
  ``paySign`` (RSA over app id, timestamp, nonce and package), mark the
  trade paid and post the notification to its ``notify_url``.

Usage::

    standin = WeChatStandIn().start()
    standin.add_app('wx123', 'secret', 'mini_program')
    code = standin.login_code('wx123', 'openid-1')
    ...
    standin.stop()
"""
import base64
import datetime as dt
import json
import secrets
import threading
import time
import urllib.parse
import uuid

import requests
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from werkzeug.serving import make_server
from werkzeug.wrappers import Request, Response

TOKEN_TTL = 7200
CODE_TTL = 300
PAY_WINDOW = 300


def new_rsa_key():
    "(private key PEM, public key PEM) of a new RSA 2048 key"
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()).decode()
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM,
        serialization.PublicFormat.SubjectPublicKeyInfo).decode()
    return private, public


def rsa_sign(private_pem, message):
    key = serialization.load_pem_private_key(private_pem.encode(), None)
    return base64.b64encode(key.sign(
            message.encode('utf-8'), padding.PKCS1v15(),
            hashes.SHA256())).decode()


def rsa_verify(public_pem, message, signature):
    key = serialization.load_pem_public_key(public_pem.encode())
    try:
        key.verify(base64.b64decode(signature), message.encode('utf-8'),
            padding.PKCS1v15(), hashes.SHA256())
    except (InvalidSignature, ValueError):
        return False
    return True


def _json(data, status=200, headers=None):
    response = Response(json.dumps(data, ensure_ascii=False), status=status,
        content_type='application/json; charset=utf-8')
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _cors(response):
    response.headers['Access-Control-Allow-Origin'] = '*'
    response.headers['Access-Control-Allow-Headers'] = 'Content-Type'
    response.headers['Access-Control-Allow-Methods'] = 'POST, OPTIONS'
    return response


class WeChatStandIn:

    def __init__(self, host='127.0.0.1', port=0):
        self.host, self.port = host, port
        self.lock = threading.RLock()
        self.apps = {}          # appid -> {'secret', 'kind', 'templates'}
        self.tokens = {}        # access token -> (appid, expires at)
        self.codes = {}         # code -> {'appid', 'openid', 'unionid', ...}
        self.used_codes = set()
        self.accepted = {}      # (appid, openid) -> set of template ids
        self.users = {}         # (appid, openid) known to the app
        self.oauth_user = {}    # appid -> openid of the browser's user
        self.messages = []      # accepted subscribe/template messages
        self.errors = []        # refused calls (errcode, path)
        self._fail = []         # errcodes to answer next (send calls)
        self.merchants = {}     # mchid -> merchant
        self.trades = {}        # (mchid, out_trade_no) -> trade
        self.refunds = {}       # (mchid, out_refund_no) -> refund
        self.notifications = []  # (url, status, body) posted
        self.server = None

    # --- setup ----------------------------------------------------------------

    def start(self):
        self.server = make_server(self.host, self.port, self.wsgi,
            threaded=True)
        self.port = self.server.server_port
        self.thread = threading.Thread(
            target=self.server.serve_forever, daemon=True)
        self.thread.start()
        return self

    def stop(self):
        if self.server:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    @property
    def url(self):
        return 'http://%s:%s' % (self.host, self.port)

    def add_app(self, appid, secret, kind='mini_program', templates=()):
        with self.lock:
            self.apps[appid] = {
                'secret': secret, 'kind': kind, 'templates': set(templates)}

    def add_template(self, appid, template_id):
        with self.lock:
            self.apps[appid]['templates'].add(template_id)

    def add_user(self, appid, openid, unionid=None):
        with self.lock:
            self.users[appid, openid] = unionid
        return openid

    def login_code(self, appid, openid, unionid=None):
        "The code wx.login() gives the user of openid in the mini program"
        self.add_user(appid, openid, unionid)
        code = '0' + secrets.token_hex(15)
        with self.lock:
            self.codes[code] = {
                'appid': appid, 'openid': openid, 'unionid': unionid,
                'expires': time.time() + CODE_TTL,
                'session_key': base64.b64encode(
                    secrets.token_bytes(16)).decode()}
        return code

    def accept(self, appid, openid, template_id):
        "The user accepted the template (wx.requestSubscribeMessage)"
        with self.lock:
            self.accepted.setdefault((appid, openid), set()).add(template_id)

    def expire_tokens(self):
        with self.lock:
            self.tokens = {k: (a, 0) for k, (a, _) in self.tokens.items()}

    def fail_next(self, count, errcode=-1):
        with self.lock:
            self._fail.extend([errcode] * count)

    def add_merchant(self, mchid, apiv3_key, merchant_public_key, serial_no,
            appids, platform_private=None, platform_key_id=None):
        """Register a merchant (with a new platform key unless given);
        return (platform public key PEM, key id)"""
        if platform_private:
            key = serialization.load_pem_private_key(
                platform_private.encode(), None)
            private = platform_private
            public = key.public_key().public_bytes(
                serialization.Encoding.PEM,
                serialization.PublicFormat.SubjectPublicKeyInfo).decode()
        else:
            private, public = new_rsa_key()
        key_id = platform_key_id or (
            'PUB_KEY_ID_' + secrets.token_hex(12).upper())
        with self.lock:
            self.merchants[mchid] = {
                'apiv3_key': apiv3_key, 'public_key': merchant_public_key,
                'serial_no': serial_no, 'appids': set(appids),
                'platform_private': private, 'platform_public': public,
                'platform_key_id': key_id, 'nonces': set()}
        return public, key_id

    # --- WSGI -------------------------------------------------------------------

    def wsgi(self, environ, start_response):
        request = Request(environ)
        path = request.path
        try:
            if path == '/cgi-bin/token':
                response = self.token(request)
            elif path == '/sns/jscode2session':
                response = self.jscode2session(request)
            elif path == '/sns/oauth2/access_token':
                response = self.oauth_token(request)
            elif path == '/connect/oauth2/authorize':
                response = self.oauth_authorize(request)
            elif path in {'/cgi-bin/message/subscribe/send',
                    '/cgi-bin/message/template/send'}:
                response = self.send_message(request)
            elif path.startswith('/v3/'):
                response = self.pay_api(request)
            elif path == '/standin/login':
                response = _cors(self.wx_login(request))
            elif path == '/standin/subscribe':
                response = _cors(self.wx_subscribe(request))
            elif path == '/standin/messages':
                response = _cors(_json(self.messages))
            elif path == '/standin/requestPayment':
                response = _cors(self.request_payment(request))
            else:
                response = _json({'errcode': 404, 'errmsg': 'not found'}, 404)
        except Exception as e:  # a bug of the stand-in: say it
            response = _json({'errcode': -1, 'errmsg': repr(e)}, 500)
        return response(environ, start_response)

    def _error(self, errcode, errmsg, path):
        with self.lock:
            self.errors.append((errcode, path))
        return _json({'errcode': errcode, 'errmsg': errmsg})

    def _app(self, request):
        appid = request.args.get('appid', '')
        app = self.apps.get(appid)
        return appid, app

    def token(self, request):
        appid, app = self._app(request)
        if request.args.get('grant_type') != 'client_credential':
            return self._error(40002, 'invalid grant_type', request.path)
        if not app:
            return self._error(40013, 'invalid appid', request.path)
        if request.args.get('secret') != app['secret']:
            return self._error(40125, 'invalid appsecret', request.path)
        token = secrets.token_urlsafe(48)
        with self.lock:
            self.tokens[token] = (appid, time.time() + TOKEN_TTL)
        return _json({'access_token': token, 'expires_in': TOKEN_TTL})

    def _check_token(self, request):
        "The app id of a valid access token, or an error answer"
        token = request.args.get('access_token', '')
        with self.lock:
            found = self.tokens.get(token)
        if not found:
            return None, self._error(
                40001, 'invalid credential, access_token is invalid or not '
                'latest', request.path)
        appid, expires = found
        if expires < time.time():
            return None, self._error(
                42001, 'access_token expired', request.path)
        return appid, None

    def _take_code(self, request, appid):
        code = request.args.get('js_code') or request.args.get('code') or ''
        with self.lock:
            if code in self.used_codes:
                return None, self._error(
                    40163, 'code been used', request.path)
            data = self.codes.get(code)
            if (not data or data['appid'] != appid
                    or data['expires'] < time.time()):
                return None, self._error(40029, 'invalid code', request.path)
            self.used_codes.add(code)
            del self.codes[code]
        return data, None

    def jscode2session(self, request):
        appid, app = self._app(request)
        if not app or app['kind'] != 'mini_program':
            return self._error(40013, 'invalid appid', request.path)
        if request.args.get('secret') != app['secret']:
            return self._error(40125, 'invalid appsecret', request.path)
        if request.args.get('grant_type') != 'authorization_code':
            return self._error(40002, 'invalid grant_type', request.path)
        data, error = self._take_code(request, appid)
        if error:
            return error
        result = {'openid': data['openid'], 'session_key': data['session_key']}
        if data['unionid']:
            result['unionid'] = data['unionid']
        return _json(result)

    def oauth_authorize(self, request):
        appid = request.args.get('appid', '')
        app = self.apps.get(appid)
        if not app or app['kind'] != 'official_account':
            return Response('appid 参数错误', status=400,
                content_type='text/plain; charset=utf-8')
        if request.args.get('response_type') != 'code':
            return Response('response_type 参数错误', status=400,
                content_type='text/plain; charset=utf-8')
        redirect = request.args.get('redirect_uri', '')
        openid = self.oauth_user.get(appid)
        if not openid:
            return Response('用户未登录微信', status=400,
                content_type='text/plain; charset=utf-8')
        code = self.login_code(appid, openid)
        self.codes[code]['scope'] = request.args.get('scope')
        sep = '&' if '?' in redirect else '?'
        location = redirect + sep + urllib.parse.urlencode({
                'code': code, 'state': request.args.get('state', '')})
        return Response('', status=302, headers={'Location': location})

    def oauth_token(self, request):
        appid, app = self._app(request)
        if not app or app['kind'] != 'official_account':
            return self._error(40013, 'invalid appid', request.path)
        if request.args.get('secret') != app['secret']:
            return self._error(40125, 'invalid appsecret', request.path)
        data, error = self._take_code(request, appid)
        if error:
            return error
        return _json({
                'access_token': secrets.token_urlsafe(32),
                'expires_in': TOKEN_TTL,
                'refresh_token': secrets.token_urlsafe(32),
                'openid': data['openid'],
                'scope': data.get('scope') or 'snsapi_base',
                })

    def send_message(self, request):
        appid, error = self._check_token(request)
        if error:
            return error
        with self.lock:
            if self._fail:
                return self._error(self._fail.pop(0), 'system error',
                    request.path)
        try:
            body = json.loads(request.get_data(as_text=True))
        except ValueError:
            return self._error(47001, 'data format error', request.path)
        openid = body.get('touser')
        template = body.get('template_id')
        app = self.apps[appid]
        if (appid, openid) not in self.users:
            return self._error(40003, 'invalid openid', request.path)
        if template not in app['templates']:
            return self._error(40037, 'invalid template_id', request.path)
        data = body.get('data')
        if not isinstance(data, dict) or not data or not all(
                isinstance(v, dict) and isinstance(v.get('value'), str)
                and v['value'] for v in data.values()):
            return self._error(47003, 'argument invalid! data.value empty',
                request.path)
        subscribe = request.path.endswith('/subscribe/send')
        if subscribe:
            with self.lock:
                accepted = self.accepted.get((appid, openid), set())
                if template not in accepted:
                    return self._error(43101, 'user refuse to accept the msg',
                        request.path)
                # A subscription is good for one message
                accepted.discard(template)
        msgid = int(time.time() * 1000) % 10**12
        with self.lock:
            self.messages.append({
                    'appid': appid, 'touser': openid, 'template_id': template,
                    'data': data, 'page': body.get('page') or body.get('url'),
                    'msgid': msgid, 'kind': 'subscribe' if subscribe
                    else 'template'})
        return _json({'errcode': 0, 'errmsg': 'ok', 'msgid': msgid})

    # --- WeChat Pay v3 ------------------------------------------------------------

    def _signed(self, merchant, data, status=200):
        body = json.dumps(data, ensure_ascii=False)
        timestamp, nonce = str(int(time.time())), secrets.token_hex(16)
        signature = rsa_sign(merchant['platform_private'],
            '%s\n%s\n%s\n' % (timestamp, nonce, body))
        response = Response(body, status=status,
            content_type='application/json; charset=utf-8')
        response.headers.update({
                'Wechatpay-Timestamp': timestamp,
                'Wechatpay-Nonce': nonce,
                'Wechatpay-Signature': signature,
                'Wechatpay-Serial': merchant['platform_key_id'],
                'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
                'Request-ID': str(uuid.uuid4()),
                })
        return response

    def _pay_error(self, status, code, message, path):
        with self.lock:
            self.errors.append((code, path))
        return _json({'code': code, 'message': message}, status)

    def _authorized(self, request):
        "The merchant of a valid Authorization header, or an error answer"
        header = request.headers.get('Authorization', '')
        scheme, _, params = header.partition(' ')
        if scheme != 'WECHATPAY2-SHA256-RSA2048':
            return None, self._pay_error(401, 'SIGN_ERROR',
                '签名错误: 认证类型不正确', request.path)
        values = {}
        for part in params.split(','):
            name, _, value = part.strip().partition('=')
            values[name] = value.strip('"')
        merchant = self.merchants.get(values.get('mchid'))
        if not merchant or values.get('serial_no') != merchant['serial_no']:
            return None, self._pay_error(401, 'SIGN_ERROR',
                '商户证书序列号有误', request.path)
        try:
            timestamp = int(values.get('timestamp', ''))
        except ValueError:
            timestamp = 0
        if abs(time.time() - timestamp) > PAY_WINDOW:
            return None, self._pay_error(401, 'SIGN_ERROR',
                '请求时间戳已过期', request.path)
        nonce = values.get('nonce_str', '')
        path = request.full_path.rstrip('?')
        message = '%s\n%s\n%s\n%s\n%s\n' % (request.method, path,
            values.get('timestamp'), nonce, request.get_data(as_text=True))
        if not nonce or not rsa_verify(merchant['public_key'], message,
                values.get('signature', '')):
            return None, self._pay_error(401, 'SIGN_ERROR', '签名错误',
                request.path)
        with self.lock:
            if nonce in merchant['nonces']:
                return None, self._pay_error(401, 'SIGN_ERROR',
                    '重复的请求', request.path)
            merchant['nonces'].add(nonce)
        return (values['mchid'], merchant), None

    def pay_api(self, request):
        found, error = self._authorized(request)
        if error:
            return error
        mchid, merchant = found
        path = request.path
        if path == '/v3/pay/transactions/jsapi' and request.method == 'POST':
            return self.jsapi(request, mchid, merchant)
        prefix = '/v3/pay/transactions/out-trade-no/'
        if path.startswith(prefix) and request.method == 'GET':
            no = path[len(prefix):]
            if request.args.get('mchid') != mchid:
                return self._pay_error(400, 'PARAM_ERROR', 'mchid 不一致', path)
            trade = self.trades.get((mchid, no))
            if not trade:
                return self._pay_error(404, 'ORDER_NOT_EXIST', '订单不存在',
                    path)
            return self._signed(merchant, self._trade_view(mchid, trade))
        if path == '/v3/refund/domestic/refunds' and request.method == 'POST':
            return self.refund(request, mchid, merchant)
        return self._pay_error(404, 'NOT_FOUND', '接口不存在', path)

    def jsapi(self, request, mchid, merchant):
        data = json.loads(request.get_data(as_text=True))
        path = request.path
        for name in ['appid', 'mchid', 'description', 'out_trade_no',
                'notify_url', 'amount', 'payer']:
            if not data.get(name):
                return self._pay_error(400, 'PARAM_ERROR',
                    '输入源"/body/%s"映射到字段"%s"必填性规则校验失败' % (
                        name, name), path)
        if data['mchid'] != mchid:
            return self._pay_error(400, 'PARAM_ERROR', 'mchid 与请求头不一致',
                path)
        if data['appid'] not in merchant['appids']:
            return self._pay_error(400, 'APPID_MCHID_NOT_MATCH',
                'appid和mch_id不匹配', path)
        total = data['amount'].get('total')
        if not isinstance(total, int) or total <= 0:
            return self._pay_error(400, 'PARAM_ERROR', '订单金额有误', path)
        openid = data['payer'].get('openid')
        if (data['appid'], openid) not in self.users:
            return self._pay_error(400, 'PARAM_ERROR', 'openid 无效', path)
        key = (mchid, data['out_trade_no'])
        with self.lock:
            trade = self.trades.get(key)
            if trade:
                if trade['request'] != data:
                    return self._pay_error(400, 'INVALID_REQUEST',
                        '201 商户订单号重复', path)
                if trade['state'] == 'SUCCESS':
                    return self._pay_error(400, 'ORDERPAID', '该订单已支付',
                        path)
            else:
                trade = self.trades[key] = {
                    'request': data, 'state': 'NOTPAY',
                    'prepay_id': 'wx' + secrets.token_hex(16),
                    'transaction_id': None, 'success_time': None,
                    'refunded': 0}
        return self._signed(merchant, {'prepay_id': trade['prepay_id']})

    def _trade_view(self, mchid, trade):
        request = trade['request']
        result = {
            'appid': request['appid'], 'mchid': mchid,
            'out_trade_no': request['out_trade_no'],
            'trade_state': trade['state'],
            'trade_state_desc': {'NOTPAY': '订单未支付', 'SUCCESS': '支付成功',
                'REFUND': '转入退款'}.get(trade['state'], trade['state']),
            'trade_type': 'JSAPI',
            'payer': request['payer'],
            'amount': {'total': request['amount']['total'],
                'currency': 'CNY'},
            'attach': request.get('attach', ''),
            }
        if trade['transaction_id']:
            result.update({
                    'transaction_id': trade['transaction_id'],
                    'success_time': trade['success_time'],
                    'bank_type': 'OTHERS',
                    })
            result['amount'].update({
                    'payer_total': request['amount']['total'],
                    'payer_currency': 'CNY'})
        return result

    def refund(self, request, mchid, merchant):
        data = json.loads(request.get_data(as_text=True))
        path = request.path
        trade = None
        for (m, _), value in self.trades.items():
            if m == mchid and (
                    value['request']['out_trade_no'] == data.get(
                        'out_trade_no')
                    or (value['transaction_id'] and value['transaction_id']
                        == data.get('transaction_id'))):
                trade = value
        if not trade:
            return self._pay_error(404, 'RESOURCE_NOT_EXISTS', '订单不存在',
                path)
        if trade['state'] not in {'SUCCESS', 'REFUND'}:
            return self._pay_error(400, 'INVALID_REQUEST', '订单未支付', path)
        amount = data.get('amount') or {}
        refund, total = amount.get('refund'), amount.get('total')
        if total != trade['request']['amount']['total']:
            return self._pay_error(400, 'PARAM_ERROR', '订单金额与原订单不一致',
                path)
        key = (mchid, data.get('out_refund_no'))
        with self.lock:
            existing = self.refunds.get(key)
            if existing:
                return self._signed(merchant, existing['view'])
            if not isinstance(refund, int) or refund <= 0 or (
                    trade['refunded'] + refund > total):
                return self._pay_error(400, 'INVALID_REQUEST',
                    '申请退款金额超过订单可退金额', path)
            trade['refunded'] += refund
            trade['state'] = 'REFUND'
            view = {
                'refund_id': '50' + secrets.token_hex(14),
                'out_refund_no': data['out_refund_no'],
                'transaction_id': trade['transaction_id'],
                'out_trade_no': trade['request']['out_trade_no'],
                'channel': 'ORIGINAL', 'status': 'SUCCESS',
                'success_time': self._now(),
                'create_time': self._now(),
                'amount': {'total': total, 'refund': refund,
                    'payer_total': total, 'payer_refund': refund,
                    'currency': 'CNY'},
                }
            self.refunds[key] = {'view': view, 'notify_url': data.get(
                    'notify_url')}
        return self._signed(merchant, view)

    @staticmethod
    def _now():
        tz = dt.timezone(dt.timedelta(hours=8))
        return dt.datetime.now(tz).replace(microsecond=0).isoformat()

    def wx_login(self, request):
        "What wx.login() does on the phone: a code for the user"
        if request.method == 'OPTIONS':
            return Response('', status=204)
        data = json.loads(request.get_data(as_text=True) or '{}')
        if data.get('appid') not in self.apps or not data.get('openid'):
            return _json({'errMsg': 'login:fail'}, 400)
        return _json({'errMsg': 'login:ok', 'code': self.login_code(
                    data['appid'], data['openid'])})

    def wx_subscribe(self, request):
        "What wx.requestSubscribeMessage does when the user accepts"
        if request.method == 'OPTIONS':
            return Response('', status=204)
        data = json.loads(request.get_data(as_text=True) or '{}')
        for template in data.get('tmplIds') or []:
            self.accept(data.get('appid'), data.get('openid'), template)
        return _json({'errMsg': 'requestSubscribeMessage:ok'})

    def load(self, config):
        """Register the apps, users and merchant of a configuration written
        by tools/demo_wechat.py (or tests/tools.secrets)"""
        for appid, app in config['apps'].items():
            self.add_app(appid, app['secret'], app['kind'],
                app.get('templates', ()))
            for openid in app.get('users', ()):
                self.add_user(appid, openid)
            if app.get('oauth_user'):
                self.oauth_user[appid] = app['oauth_user']
        merchant = config.get('merchant')
        if merchant:
            self.add_merchant(merchant['mchid'], merchant['apiv3_key'],
                merchant['public_key'], merchant['serial_no'],
                list(config['apps']), merchant['platform_private'],
                merchant['platform_key_id'])
        return self

    def request_payment(self, request):
        "What the WeChat client does on wx.requestPayment"
        if request.method == 'OPTIONS':
            return Response('', status=204)
        try:
            params = json.loads(request.get_data(as_text=True))
        except ValueError:
            params = {}
        package = params.get('package', '')
        prepay_id = package.partition('prepay_id=')[2]
        found = None
        for (mchid, _), trade in self.trades.items():
            if trade['prepay_id'] == prepay_id:
                found = mchid, trade
        if not found:
            return _json({'errMsg': 'requestPayment:fail 支付单不存在'}, 400)
        mchid, trade = found
        merchant = self.merchants[mchid]
        message = '%s\n%s\n%s\n%s\n' % (params.get('appId'),
            params.get('timeStamp'), params.get('nonceStr'), package)
        if (params.get('appId') != trade['request']['appid']
                or params.get('signType') != 'RSA'
                or not rsa_verify(merchant['public_key'], message,
                    params.get('paySign', ''))):
            return _json({'errMsg': 'requestPayment:fail 支付验证签名失败'},
                400)
        self.mark_paid(mchid, trade['request']['out_trade_no'])
        status, _ = self.post_notification(mchid,
            trade['request']['out_trade_no'])
        return _json({'errMsg': 'requestPayment:ok', 'notified': status})

    def mark_paid(self, mchid, out_trade_no):
        with self.lock:
            trade = self.trades[mchid, out_trade_no]
            if trade['state'] == 'NOTPAY':
                trade['state'] = 'SUCCESS'
                trade['transaction_id'] = '4200' + ''.join(
                    secrets.choice('0123456789') for _ in range(24))
                trade['success_time'] = self._now()
        return trade

    def notification(self, mchid, out_trade_no=None, out_refund_no=None,
            resource=None, timestamp=None):
        """(headers, body) of the payment (or refund) notification WeChat
        posts to the notify_url: resource encrypted with AES-256-GCM under
        the APIv3 key, body signed with the platform key"""
        merchant = self.merchants[mchid]
        if resource is None and out_refund_no:
            view = self.refunds[mchid, out_refund_no]['view']
            resource = {'mchid': mchid, **{k: view[k] for k in [
                        'out_trade_no', 'transaction_id', 'out_refund_no',
                        'refund_id', 'success_time']},
                'refund_status': view['status'],
                'amount': {k: view['amount'][k] for k in [
                        'total', 'refund', 'payer_total', 'payer_refund']}}
            event = 'REFUND.SUCCESS'
            associated = 'refund'
        else:
            if resource is None:
                resource = self._trade_view(
                    mchid, self.trades[mchid, out_trade_no])
            event = 'TRANSACTION.SUCCESS'
            associated = 'transaction'
        nonce = secrets.token_hex(6)
        ciphertext = AESGCM(merchant['apiv3_key'].encode()).encrypt(
            nonce.encode(), json.dumps(resource, ensure_ascii=False).encode(),
            associated.encode())
        body = json.dumps({
                'id': str(uuid.uuid4()),
                'create_time': self._now(),
                'resource_type': 'encrypt-resource',
                'event_type': event,
                'summary': '支付成功' if associated == 'transaction'
                else '退款成功',
                'resource': {
                    'original_type': associated,
                    'algorithm': 'AEAD_AES_256_GCM',
                    'ciphertext': base64.b64encode(ciphertext).decode(),
                    'associated_data': associated,
                    'nonce': nonce,
                    },
                }, ensure_ascii=False)
        timestamp = str(timestamp or int(time.time()))
        signature_nonce = secrets.token_hex(16)
        headers = {
            'Content-Type': 'application/json',
            'Wechatpay-Timestamp': timestamp,
            'Wechatpay-Nonce': signature_nonce,
            'Wechatpay-Serial': merchant['platform_key_id'],
            'Wechatpay-Signature-Type': 'WECHATPAY2-SHA256-RSA2048',
            'Wechatpay-Signature': rsa_sign(merchant['platform_private'],
                '%s\n%s\n%s\n' % (timestamp, signature_nonce, body)),
            }
        return headers, body

    def post_notification(self, mchid, out_trade_no=None, out_refund_no=None):
        "Post the notification to the notify_url over HTTP"
        if out_refund_no:
            url = self.refunds[mchid, out_refund_no]['notify_url']
        else:
            url = self.trades[mchid, out_trade_no]['request']['notify_url']
        headers, body = self.notification(mchid, out_trade_no, out_refund_no)
        try:
            response = requests.post(url, data=body.encode('utf-8'),
                headers=headers, timeout=30)
            status, text = response.status_code, response.text
        except requests.RequestException as e:
            status, text = None, repr(e)
        self.notifications.append((url, status, text))
        return status, text


def main():
    "Run a stand-in with the apps of the demo (tools/demo_wechat.py)"
    import argparse
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--port', type=int, default=8002)
    parser.add_argument('--config', default='var/wechat-standin.json',
        help="the apps and merchant (written by tools/demo_wechat.py)")
    args = parser.parse_args()
    standin = WeChatStandIn(port=args.port).start()
    with open(args.config) as file:
        standin.load(json.load(file))
    print('WeChat stand-in on', standin.url, flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        standin.stop()


if __name__ == '__main__':
    main()

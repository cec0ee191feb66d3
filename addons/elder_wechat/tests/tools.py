# This file is part of the eldercare platform. See LICENSE.
"Set-up shared by the tests and the demo: WeChat apps on a stand-in."
import secrets

from trytond.pool import Pool

from .standin import new_rsa_key

MINI_APPID = 'wx5e1d2c3b4a596870'
OA_APPID = 'wx0a1b2c3d4e5f6071'
MCHID = '1900009191'
TEMPLATES = {
    'alarm': ('TPL-ALARM-001', 'thing1=elder\nphrase2=kind\ntime3=time'),
    'service_started': ('TPL-SVC-START', 'thing1=elder\nthing2=item\n'
        'time3=time'),
    'service_finished': ('TPL-SVC-DONE', 'thing1=elder\nthing2=item\n'
        'time3=time'),
    'bill': ('TPL-BILL-001', 'thing1=elder\nthing2=item\n'
        'amount3=amount'),
    'assessment': ('TPL-ASSESS-01', 'thing1=elder\nphrase2=kind'),
    'binding': ('TPL-BIND-0001', 'thing1=elder\ntime2=time'),
    }


def new_secrets(users=(), oauth_user=None):
    """The apps' and the merchant's secrets and keys, as the stand-in loads
    them (WeChatStandIn.load) and create_accounts() stores them"""
    private, public = new_rsa_key()
    platform_private, _ = new_rsa_key()
    templates = [t for t, _ in TEMPLATES.values()]
    return {
        'apps': {
            MINI_APPID: {'secret': secrets.token_hex(16),
                'kind': 'mini_program', 'templates': templates,
                'users': list(users)},
            OA_APPID: {'secret': secrets.token_hex(16),
                'kind': 'official_account', 'templates': templates,
                'users': list(users), 'oauth_user': oauth_user},
            },
        'merchant': {
            'mchid': MCHID, 'apiv3_key': secrets.token_hex(16),
            'private_key': private, 'public_key': public,
            'serial_no': secrets.token_hex(20).upper(),
            'platform_private': platform_private,
            'platform_key_id': 'PUB_KEY_ID_' + secrets.token_hex(12).upper(),
            },
        }


def configure(standin, notify_url, oauth_redirect=None):
    """Create the mini program, the official account and the merchant on
    the stand-in and in the database (as root, in the current
    transaction); return the secrets"""
    values = new_secrets()
    standin.load(values)
    create_accounts(values, standin.url, notify_url, oauth_redirect)
    return values


def create_accounts(values, standin_url, notify_url, oauth_redirect=None):
    "Create the accounts and the merchant of new_secrets() values"
    from .standin import WeChatStandIn
    pool = Pool()
    Account = pool.get('wechat.account')
    Merchant = pool.get('wechat.pay.merchant')
    Configuration = pool.get('wechat.configuration')
    mini_secret = values['apps'][MINI_APPID]['secret']
    oa_secret = values['apps'][OA_APPID]['secret']
    standin = WeChatStandIn()  # to compute the platform public key
    m = values['merchant']
    platform_public, key_id = standin.add_merchant(m['mchid'],
        m['apiv3_key'], m['public_key'], m['serial_no'], [],
        m['platform_private'], m['platform_key_id'])
    standin_url = standin_url.rstrip('/')
    accounts = []
    for name, appid, secret, kind in [
            ('家属小程序', MINI_APPID, mini_secret, 'mini_program'),
            ('12349养老服务号', OA_APPID, oa_secret, 'official_account')]:
        accounts.append({
                'name': name, 'appid': appid, 'secret': secret,
                'kind': kind, 'api_base': standin_url,
                'oauth_base': standin_url,
                'oauth_redirect': oauth_redirect,
                'templates': [('create', [{
                                'event': event, 'template_id': template,
                                'fields_map': fields_map,
                                'page': 'pages/home/home'
                                if kind == 'mini_program' else None}
                            for event, (template, fields_map)
                            in TEMPLATES.items()])],
                })
    mini, oa = Account.create(accounts)
    merchant, = Merchant.create([{
                'name': '呼和浩特市居家养老服务结算中心', 'mchid': m['mchid'],
                'cert_serial_no': m['serial_no'],
                'private_key': m['private_key'],
                'apiv3_key': m['apiv3_key'],
                'platform_public_key': platform_public,
                'platform_key_id': key_id, 'gateway': standin_url,
                'notify_url': notify_url,
                }])
    config = Configuration(1)
    config.mini_program = mini
    config.official_account = oa
    config.merchant = merchant
    config.save()
    return mini, oa, merchant


def sms_texts(phone=None):
    "The SMS texts of the outbox (decrypted), newest first"
    Message = Pool().get('wechat.sms.message')
    messages = Message.search([], order=[('id', 'DESC')])
    return [(m.phone, m.text) for m in messages
        if phone is None or m.phone == phone]


def last_code(phone):
    import re
    for _, text in sms_texts(phone):
        match = re.search(r'验证码(\d{6})|code (\d{6})', text)
        if match:
            return match.group(1) or match.group(2)

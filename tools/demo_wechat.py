"""Demo WeChat set-up for tools/demo.py: the family mini program, the
official account and a WeChat Pay merchant, all pointed at the local WeChat
stand-in (addons/elder_wechat/tests/standin.py, 127.0.0.1:8002 —
ELDER_WECHAT_STANDIN_PORT), and one demo family member (王芳) bound to the
first older person of 新城区 with a phone, with the older person's consent.

The stand-in's configuration (app secrets, the merchant's keys, the demo
family member's open id) is written to var/wechat-standin.json (mode 0600,
demo database only); run the stand-in with

    .venv/bin/python -m trytond.modules.elder_wechat.tests.standin \\
        --port 8002 --config var/wechat-standin.json

then open http://127.0.0.1:8000/<database>/wechat/h5/?appid=<official
account app id> (printed): the stand-in's web authorisation logs the demo
family member in. The mini program in miniprogram/ talks to the same API
(utils/config.js: apiBase)."""
import datetime as dt
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / 'var' / 'wechat-standin.json'
FAMILY_OPENID = 'o-demo-family-wangfang'
FAMILY_UNIONID = 'u-demo-family-wangfang'


def log(message):
    print(f'[demo] {message}', file=sys.stderr, flush=True)


def load(pool, seed=2026):
    "Create the demo WeChat set-up in the caller's transaction (as root)"
    from trytond.modules.elder_wechat.tests.tools import (
        MINI_APPID, OA_APPID, create_accounts, new_secrets)
    Account = pool.get('wechat.account')
    Elder = pool.get('elder.elder')
    Region = pool.get('elder.region')
    Identity = pool.get('wechat.identity')
    Binding = pool.get('wechat.binding')
    if Account.search([], limit=1):
        log('WeChat applications already present: nothing to do')
        return {}
    port = int(os.environ.get('ELDER_WECHAT_STANDIN_PORT', 8002))
    server = os.environ.get('ELDER_URL', 'http://127.0.0.1:8000').rstrip('/')
    database = pool.database_name
    standin = f'http://127.0.0.1:{port}'
    values = new_secrets(users=[FAMILY_OPENID], oauth_user=FAMILY_OPENID)
    create_accounts(values, standin,
        f'{server}/{database}/wechat/pay/notify',
        f'{server}/{database}/wechat/h5/')
    CONFIG.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(CONFIG, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as file:
        json.dump(values, file, indent=1)

    district, = Region.search([('code', '=', '150102')])
    elders = [e for e in Elder.search([('state', '=', 'active'),
                ('region', 'child_of', [district.id], 'parent')],
            order=[('id', 'ASC')], limit=50) if e.phone]
    if not elders:
        log('no older person with a phone in 新城区: no demo binding')
        return {'appid': OA_APPID}
    elder = elders[0]
    oa, = Account.search([('appid', '=', OA_APPID)])
    mini, = Account.search([('appid', '=', MINI_APPID)])
    # One person in both applications: the same union id, one web user
    identity = Identity.login(oa, FAMILY_OPENID, FAMILY_UNIONID)
    Identity.login(mini, FAMILY_OPENID, FAMILY_UNIONID)
    user = identity.web_user
    user.party.name = '王芳'
    user.party.save()
    binding, = Binding.create([{
                'web_user': user.id, 'party': user.party.id,
                'elder': elder.id, 'region': elder.region.id,
                'name': '王芳', 'relationship': 'daughter',
                'phone': '13698765432', 'method': 'staff',
                'requested_at': dt.datetime.now(),
                'staff_given_by': 'subject',
                'staff_note': '示例数据：社区电话核实，老人本人同意。',
                }])
    Binding.activate([binding], 'subject', 'phone')
    log(f'WeChat: demo family member 王芳 bound to {elder.name}; '
        f'stand-in configuration in {CONFIG}')
    return {'appid': OA_APPID, 'elder': elder.name}


def main():
    "Print the H5 address of a database (after tools/demo.py ran)"
    from trytond.modules.elder_wechat.tests.tools import OA_APPID
    database = sys.argv[1] if len(sys.argv) > 1 else 'eldercare'
    print(f'http://127.0.0.1:8000/{database}/wechat/h5/?appid={OA_APPID}')


if __name__ == '__main__':
    main()

"""The H5 family page of the official account, in headless Chromium, against
gunicorn and the local WeChat stand-in (elder_wechat/tests/standin.py).

A family member opens the page from the official-account menu: the page
sends them through WeChat's web authorisation (the stand-in's authorize
page redirects back with a code), binds to a demo older person with the SMS
code sent to the older person's phone (read from the SMS outbox) and their
consent, books a service, the visit happens (as the caregiver's app would
do it, on the server), an SOS alarm reaches the family as an official-
account template message and on the page, where they acknowledge it, they
rate the finished service with five stars, and pay the self-paid part with
WeChat Pay (the stand-in's WeixinJSBridge checks paySign like the WeChat
client and posts the signed, encrypted payment notification to the
server). The ageing-friendly measures of CODES.md are checked on every
screen. Screenshots: test-output/browser/wechat_*.png.

The database is built here (elder_wechat with elder_assess and
elder_settlement, zh_CN, no demo data) rather than with the web_server
fixture, so that the test does not depend on the state of every module.
"""
import hashlib
import json
import os
import shutil
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from h5_tools import (
    OUTPUT, PHONE, ROOT, STYLE_JS, TIMEOUT, contrast, elderctl, rgb,
    server_python, uri)

MODULES = ['elder_wechat', 'elder_assess', 'elder_settlement']
OPENID = 'o-h5-family-0001'
MP_OPENID = 'o-mp-family-0002'


def template_name():
    "The template database of the modules' current sources"
    digest = hashlib.sha256()
    for module in ['elder_security', 'elder_base', 'elder_service',
            'elder_device'] + MODULES:
        folder = ROOT / 'addons' / module
        for path in sorted(folder.rglob('*')):
            if path.suffix in {'.py', '.xml', '.cfg'} and 'tests' not in (
                    path.parts):
                digest.update(str(path.relative_to(folder)).encode())
                digest.update(path.read_bytes())
    return 'test_wechat_h5_' + digest.hexdigest()[:12]


@pytest.fixture(scope='module')
def standin():
    from trytond.modules.elder_wechat.tests.standin import WeChatStandIn
    standin = WeChatStandIn().start()
    yield standin
    standin.stop()


@pytest.fixture(scope='module')
def server(standin):
    if not (uri() or '').startswith('postgresql'):
        pytest.fail('needs PostgreSQL (TRYTOND_DATABASE__URI)')
    import fasteners
    env = elderctl.tryton_env(uri())
    for name in ['DB_NAME', 'DB_CACHE', 'TRYTOND_DATABASE__PATH']:
        env.pop(name, None)
    env.update(TRYTOND_LOGGING_LEVEL='30')
    worker = os.environ.get('PYTEST_XDIST_WORKER', 'main')
    database = f'test_wechat_h5_{worker}'
    (ROOT / 'var' / 'test-locks').mkdir(parents=True, exist_ok=True)
    TEMPLATE = template_name()
    password = ROOT / 'var' / 'test_wechat_h5.password'
    with fasteners.InterProcessLock(str(ROOT / 'var' / 'test-locks'
                / 'wechat_h5')):
        if not elderctl.database_exists(uri(), TEMPLATE):
            for (old,) in elderctl.sql(uri(), "SELECT datname FROM "
                    "pg_database WHERE datname LIKE 'test\\_wechat\\_h5\\_%%' "
                    "AND datname <> %s", [TEMPLATE]):
                if len(old) == len(TEMPLATE):
                    elderctl.drop_database(uri(), old)
            elderctl.write_private(password, elderctl.new_password() + '\n')
            saved = os.environ.get('ELDER_MODULES')
            os.environ['ELDER_MODULES'] = ','.join(MODULES)  # no demo data
            try:
                elderctl.create_database(uri(), TEMPLATE, MODULES, password,
                    env)
            finally:
                if saved is None:
                    os.environ.pop('ELDER_MODULES')
                else:
                    os.environ['ELDER_MODULES'] = saved
        elderctl.drop_database(uri(), database)
        elderctl.create_database_from(uri(), database, TEMPLATE)
    port = elderctl.free_port()
    base = f'http://127.0.0.1:{port}'
    from trytond.modules.elder_wechat.tests.tools import OA_APPID, new_secrets
    values = new_secrets(users=[OPENID, MP_OPENID], oauth_user=OPENID)
    standin.load(values)
    data = server_python(database, f'''
import datetime as dt
from trytond.modules.elder_wechat.tests.tools import create_accounts
from trytond.modules.elder_service.tests.tools import (
    HOME, XINCHENG, active_provider, create_practitioner, create_user,
    home_elder, item)
values = {values!r}
with Transaction().new_transaction(
        _lock_tables=['wechat_configuration']) as configuring:
    create_accounts(values, {standin.url!r},
        {base!r} + '/{database}/wechat/pay/notify',
        {base!r} + '/{database}/wechat/h5/')
    configuring.commit()
elder = home_elder('巴特尔', 12, phone='13912345678', living_situation='alone')
elder2 = home_elder('其其格', 22, phone='13912345679', living_situation='alone')
provider = active_provider('青城居家养老服务中心', XINCHENG, [XINCHENG],
    latitude=HOME[0], longitude=HOME[1])
carer = create_user('carer_h5', 'elder_base.group_caregiver',
    elder_provider=provider.id)
practitioner = create_practitioner('王护理', 1, provider, user=carer.id)
Device = pool.get('device.device')
Type = pool.get('device.type')
watch, = Type.search([('code', '=', 'WATCH')])
device, device2 = Device.create([{{'type': watch.id, 'protocol': 'mqtt',
    'identifier': 'H5-0001', 'elder': elder.id}}, {{'type': watch.id,
    'protocol': 'mqtt', 'identifier': 'MP-0002', 'elder': elder2.id}}])
Device.install([device, device2])
Device.activate([device, device2])
result = {{'elder': elder.id, 'id_number': elder.id_number,
    'practitioner': practitioner.id, 'device': device.id,
    'elder2': elder2.id, 'id_number2': elder2.id_number,
    'device2': device2.id}}
''')
    log = ROOT / 'test-output' / f'gunicorn-wechat-{worker}.log'
    log.parent.mkdir(exist_ok=True)
    with open(log, 'w') as log_file:
        process = elderctl.start_gunicorn(database, '127.0.0.1', port, 2, env,
            stdout=log_file, stderr=log_file)
    try:
        elderctl.wait_listening('127.0.0.1', port, process)
        yield dict(data, url=base, database=database, appid=OA_APPID)
    finally:
        elderctl.stop_process(process)
        elderctl.drop_database(uri(), database)


# WeixinJSBridge of the WeChat client: getBrandWCPayRequest shows the cashier
# and pays; here the stand-in checks paySign and pays.
BRIDGE = '''
window.WeixinJSBridge = {invoke: function (name, params, callback) {
  fetch('%s/standin/requestPayment', {method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify(params)})
    .then(function (r) { return r.json(); })
    .then(function (d) { callback({err_msg: d.errMsg === 'requestPayment:ok'
        ? 'get_brand_wcpay_request:ok' : 'get_brand_wcpay_request:fail'}); });
}};
'''


def check_ageing_friendly(page, name):
    "CODES.md: text ≥ 18 px, headings ≥ 30 px, line spacing ≥ 1.3, tap "
    "targets ≥ 60 px, contrast ≥ 4.5:1"
    for selector in ['main p', 'main label', 'main .card']:
        for element in page.locator(selector).all():
            if not element.is_visible():
                continue
            style = element.evaluate(STYLE_JS)
            assert style['font'] >= 18, (name, selector, style)
            assert style['lineHeight'] >= 1.3 * style['font'] - 0.5, (
                name, selector, style)
            assert contrast(rgb(style['color']), rgb(style['background'])) \
                >= 4.5, (name, selector, style)
    for element in page.locator('h1, h2').all():
        if element.is_visible():
            assert element.evaluate(STYLE_JS)['font'] >= 30, name
    for element in page.locator('main button, main input, main select, '
            'nav a').all():
        if not element.is_visible():
            continue
        style = element.evaluate(STYLE_JS)
        kind = element.evaluate('e => e.type')
        if kind in {'checkbox', 'radio'}:
            box = element.evaluate(
                'e => e.closest("label").getBoundingClientRect().height')
            assert box >= 60, (name, 'label of', kind, box)
            continue
        assert style['height'] >= 60 and style['width'] >= 60, (
            name, element.evaluate('e => e.outerHTML.slice(0, 80)'), style)
        assert contrast(rgb(style['color']), rgb(style['background'])) \
            >= 4.5, (name, style)
    assert '长辈版' in page.locator('header').inner_text()


def shot(page, name):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(OUTPUT / f'wechat_{name}.png'), full_page=True)


def run(server, code):
    return server_python(server['database'], code)


def test_family_journey(server, standin, browser):
    context = browser.new_context(**PHONE)
    context.add_init_script(BRIDGE % standin.url)
    page = context.new_page()
    try:
        url = f"{server['url']}/{server['database']}/wechat/h5/" \
            f"?appid={server['appid']}"
        page.goto(url)
        # WeChat's authorisation sent us back with a code: logged in, and
        # not bound yet, so the bind screen
        page.locator('#id_number').wait_for(timeout=TIMEOUT)
        assert 'code=' not in page.url
        check_ageing_friendly(page, 'bind')
        shot(page, 'bind')
        # Missing fields are named in words
        page.locator('#submit').click()
        assert '请填写' in page.locator('#msg').inner_text()
        page.fill('#id_number', server['id_number'])
        page.fill('#elder_name', '巴特尔')
        page.fill('#name', '王芳')
        page.select_option('#relationship', 'daughter')
        page.fill('#phone', '13698765432')
        page.locator('#submit').click()
        page.locator('#code').wait_for(timeout=TIMEOUT)
        assert '139****5678' in page.locator('main').inner_text()
        code = run(server, '''
from trytond.modules.elder_wechat.tests.tools import last_code
result = last_code('13912345678')
''')
        # Without the consent ticked: said in words, nothing sent
        page.fill('#code', code)
        page.locator('#verify').click()
        assert '同意' in page.locator('#msg').inner_text()
        page.fill('#code', '000000' if code != '000000' else '111111')
        page.locator('#consent').check()
        page.locator('#verify').click()
        page.locator('#msg:has-text("验证码错误")').wait_for(timeout=TIMEOUT)
        check_ageing_friendly(page, 'code')
        shot(page, 'code_wrong')
        page.fill('#code', code)
        page.locator('#verify').click()
        page.locator('.ok:has-text("已成功绑定 巴特尔")').wait_for(
            timeout=TIMEOUT)

        # Home: the older person and the device
        page.goto(url + '#home')
        page.locator('.elder').wait_for(timeout=TIMEOUT)
        assert '巴特尔' in page.locator('.elder').inner_text()
        assert '设备在线：0 / 1' in page.locator('.elder').inner_text()

        # Book a home visit for tomorrow
        page.locator('.book').first.click()
        page.locator('#item').wait_for(timeout=TIMEOUT)
        page.select_option('#item', index=1)
        page.fill('#time', '09:30')
        check_ageing_friendly(page, 'book')
        page.locator('#submit').click()
        page.locator('#msg.ok').wait_for(timeout=TIMEOUT)
        assert '预约成功' in page.locator('#msg').inner_text()
        shot(page, 'booked')

        # The visit happens; an SOS is raised; the notices are delivered
        order = run(server, f'''
import datetime as dt
from trytond.modules.elder_service.tests.tools import HOME
from trytond.modules.elder_device import rules
Order = pool.get('service.order')
order, = Order.search([('elder', '=', {server['elder']})])
if order.state == 'submitted':
    Order.dispatch_orders([order])
Order.accept([order])
order.practitioner = {server['practitioner']}
order.save()
Order.assign([order])
start = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=2)
jpeg = b'\\xff\\xd8\\xff\\xe0' + bytes(64)
png = b'\\x89PNG\\r\\n\\x1a\\n' + bytes(64)
Order.checkin(order, HOME[0], HOME[1], 10, start, photo=jpeg)
Order.checkout(order, HOME[0], HOME[1], 10,
    start + dt.timedelta(minutes=order.item.duration or 60), photo=jpeg,
    signature=png)
Device = pool.get('device.device')
pool.get('device.alarm').raise_signals([(Device({server['device']}),
    rules.Signal('sos', rules.CRITICAL, 'SOS 按键'),
    dt.datetime.utcnow().replace(microsecond=0))])
pool.get('wechat.notification').send_pending()
result = order.id
''')
        sent = [m for m in standin.messages if m['touser'] == OPENID]
        events = {m['template_id'] for m in sent}
        assert 'TPL-ALARM-001' in events, sent
        assert {'TPL-SVC-START', 'TPL-SVC-DONE', 'TPL-BIND-0001'} <= events
        alarm = [m for m in sent if m['template_id'] == 'TPL-ALARM-001'][0]
        assert alarm['kind'] == 'template'
        assert alarm['data']['thing1']['value'] == '巴特尔'

        # The alarm on the page: the family acknowledges it
        page.goto(url + '#home')
        page.locator('.card.alarm').wait_for(timeout=TIMEOUT)
        assert '紧急呼叫' in page.locator('.card.alarm').inner_text()
        check_ageing_friendly(page, 'home')
        shot(page, 'home_alarm')
        page.locator('.ack').click()
        page.locator('.card.alarm .ok').wait_for(timeout=TIMEOUT)
        assert page.locator('.card.alarm .ok').inner_text() == '您已确认收到'

        # Rate the finished service: five stars
        page.goto(url + '#orders')
        page.locator('.confirm').wait_for(timeout=TIMEOUT)
        page.locator('.confirm').click()
        assert page.locator('#msg').inner_text() == '请先选择评分（1 到 5 分）。'
        page.locator('.star[data-value="5"]').click()
        assert '非常满意' in page.locator('.said').inner_text()
        page.fill('.comment', '护理员很耐心')
        check_ageing_friendly(page, 'orders')
        shot(page, 'rate')
        page.locator('.confirm').click()
        page.locator('.state:has-text("已确认")').wait_for(timeout=TIMEOUT)
        assert '评分：5 分' in page.locator('.order').inner_text()

        # The settlement makes the bill; pay it with WeChat Pay
        run(server, '''
import datetime as dt
with Transaction().new_transaction(
        _lock_tables=['settlement_line']) as collecting:
    pool.get('settlement.line').collect(dt.date.today())
    collecting.commit()
pool.get('wechat.notification').send_pending()
result = None
''')
        page.goto(url + '#bills')
        page.locator('.pay').wait_for(timeout=TIMEOUT)
        check_ageing_friendly(page, 'bills')
        shot(page, 'bill')
        page.locator('.pay').click()
        page.locator('.paid').wait_for(timeout=TIMEOUT)
        assert page.locator('.paid').inner_text() == '已支付'
        shot(page, 'paid')
        state = run(server, f'''
Payment = pool.get('wechat.payment')
payment, = Payment.search([('order', '=', {order})])
Event = pool.get('wechat.payment.event')
result = [payment.state, str(payment.amount), payment.transaction_id,
    [e.result for e in Event.search([('payment', '=', payment.id)])]]
''')
        assert state[0] == 'paid' and state[2], state
        assert state[3] == ['applied'], state
        assert any(m['template_id'] == 'TPL-BILL-001' for m in
            standin.messages), 'bill notice'
    finally:
        context.close()


# --- the mini program's code against the same platform ----------------------

VISIT = '''
import datetime as dt
from trytond.modules.elder_service.tests.tools import HOME
from trytond.modules.elder_device import rules
Order = pool.get('service.order')
order = Order(%(order)s)
if order.state == 'submitted':
    Order.dispatch_orders([order])
Order.accept([order])
order.practitioner = %(practitioner)s
order.save()
Order.assign([order])
start = dt.datetime.now().replace(microsecond=0) - dt.timedelta(hours=5)  # not overlapping
# the H5 family's visit by the same caregiver
jpeg = b'\\xff\\xd8\\xff\\xe0' + bytes(64)
png = b'\\x89PNG\\r\\n\\x1a\\n' + bytes(64)
Order.checkin(order, HOME[0], HOME[1], 10, start, photo=jpeg)
Order.checkout(order, HOME[0], HOME[1], 10,
    start + dt.timedelta(minutes=order.item.duration or 60), photo=jpeg,
    signature=png)
Device = pool.get('device.device')
pool.get('device.alarm').raise_signals([(Device(%(device)s),
    rules.Signal('sos', rules.CRITICAL, 'SOS'),
    dt.datetime.utcnow().replace(microsecond=0))])
pool.get('wechat.notification').send_pending()
result = order.state
'''


class Control(BaseHTTPRequestHandler):
    """What happens on the server while the family uses the mini program:
    the SMS code read from the outbox (the older person tells it), the
    visit and an SOS, the settlement run"""
    server_data = None

    def do_POST(self):  # noqa: N802 (http.server's name)
        data = self.server_data
        length = int(self.headers.get('Content-Length') or 0)
        body = json.loads(self.rfile.read(length) or b'{}')
        action = self.path.strip('/')
        try:
            if action == 'code':
                result = {'code': run(data, '''
from trytond.modules.elder_wechat.tests.tools import last_code
result = last_code('13912345679')
''')}
            elif action == 'visit':
                result = {'state': run(data, VISIT % {
                            'order': int(body['order']),
                            'practitioner': data['practitioner'],
                            'device': data['device2']})}
            elif action == 'settle':
                result = {'lines': run(data, '''
import datetime as dt
with Transaction().new_transaction(
        _lock_tables=['settlement_line']) as collecting:
    lines = pool.get('settlement.line').collect(dt.date.today())
    result = len(lines)
    collecting.commit()
''')}
            else:
                raise ValueError(action)
            status = 200
        except Exception as error:  # answered to the jest test
            result, status = {'error': str(error)[-2000:]}, 500
        answer = json.dumps(result).encode()
        self.send_response(status)
        self.send_header('Content-Type', 'application/json')
        self.send_header('Content-Length', str(len(answer)))
        self.end_headers()
        self.wfile.write(answer)

    def log_message(self, *args):
        pass


def test_miniprogram_journey(server, standin):
    "npm run e2e: the mini program's pages against the platform"
    from trytond.modules.elder_wechat.tests.tools import MINI_APPID
    npm = shutil.which('npm')
    folder = ROOT / 'miniprogram'
    assert npm and (folder / 'node_modules' / 'jest').is_dir(), \
        'run `npm ci` in miniprogram/ first'
    handler = type('Handler', (Control,), {'server_data': server})
    control = ThreadingHTTPServer(('127.0.0.1', 0), handler)
    thread = threading.Thread(target=control.serve_forever, daemon=True)
    thread.start()
    try:
        env = dict(os.environ,
            WECHAT_E2E_API=f"{server['url']}/{server['database']}/wechat/v1",
            WECHAT_E2E_STANDIN=standin.url,
            WECHAT_E2E_CONTROL=f'http://127.0.0.1:{control.server_port}',
            WECHAT_E2E_OPENID=MP_OPENID, WECHAT_E2E_APPID=MINI_APPID,
            WECHAT_E2E_ELDER=str(server['elder2']),
            WECHAT_E2E_ID_NUMBER=server['id_number2'],
            WECHAT_E2E_ELDER_NAME='其其格')
        process = subprocess.run(  # noqa: S603 (our own test command)
            [npm, 'run', 'e2e', '--', '--ci'], cwd=folder, env=env,
            capture_output=True, text=True, timeout=600)
    finally:
        control.shutdown()
        control.server_close()
    output = process.stdout + process.stderr
    assert process.returncode == 0, output[-5000:]
    assert 'Tests:       1 passed, 1 total' in output, output[-3000:]
    paid = run(server, f'''
Payment = pool.get('wechat.payment')
result = [(p.state, p.account.appid) for p in Payment.search(
    [('elder', '=', {server['elder2']})])]
''')
    assert paid == [['paid', MINI_APPID]], paid

"""The canteen counter terminal (助餐点签到终端) of elder_meal, in Chinese.

A gunicorn server on a database of its own (the modules of meal assistance
and their dependencies, tools/demo.py and tools/demo_meal.py loaded): the
shared web_server database of conftest.py is built once per run and may
predate elder_meal. The demo login ``canteen`` (staff of 新城区示例长者食堂)
opens GET /<db>/meal/h5/counter/ on a 1280×800 tablet and
- checks in the first enrolled older person by face (development image
  amy4.png, the photo of the camera input) for lunch: 签到成功 with the name,
  the price, the subsidy and the self-pay, the same as the served order in
  the database; a face not among the canteen's people (penny1.png, the
  demo caregiver's) is refused in words;
- checks another registered person in by ID card number, and by the QR code
  of a meal card; a code that is not a meal card gives the translated error
  and records nothing;
- measures the ageing-friendly minimums (text ≥ 18 px, amounts ≥ 30 px,
  buttons ≥ 60×60 px, contrast ≥ 4.5:1).
Screenshots: test-output/browser/meal_*.png.
"""
import json
import os
import urllib.request

import pytest
from h5_tools import (
    OUTPUT, ROOT, STYLE_JS, TIMEOUT, contrast, elderctl, rgb, server_python,
    sql)

MODULES = ['elder_security', 'elder_base', 'elder_service', 'elder_assess',
    'elder_face', 'elder_settlement', 'elder_meal']
LOGIN = 'canteen'
POINT = 'DEMO-XC01'
TABLET = dict(viewport={'width': 1280, 'height': 800}, locale='zh-CN',
    timezone_id='Asia/Shanghai', has_touch=True)
FACES = ROOT / 'addons' / 'elder_face' / 'tests' / 'data'


def _demo_password():
    import importlib.util
    spec = importlib.util.spec_from_file_location(
        'elder_demo', ROOT / 'tools' / 'demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEMO_PASSWORD


def _run(args, env):
    import subprocess
    subprocess.run(args, env=env, check=True, cwd=ROOT,  # noqa: S603 (our own scripts)
        stdout=subprocess.DEVNULL, timeout=1800)


@pytest.fixture(scope='module')
def meal_server():
    """gunicorn on test_meal_web_<worker>, a copy of a template with the
    meal modules and the demo data (rebuilt when the addons change)"""
    import fasteners
    import sys
    uri = os.environ.get('TRYTOND_DATABASE__URI') or os.environ.get(
        'TRYTOND_DATABASE_URI') or ''
    if not uri.startswith('postgresql'):
        pytest.fail('needs PostgreSQL (TRYTOND_DATABASE__URI)')
    env = elderctl.tryton_env(uri, ELDER_MODULES=','.join(MODULES),
        ELDER_ACCESS_LOG='-', TRYTOND_LOGGING_LEVEL='30')
    for name in ['DB_NAME', 'DB_CACHE', 'TRYTOND_DATABASE__PATH']:
        env.pop(name, None)
    worker = os.environ.get('PYTEST_XDIST_WORKER', 'main')
    template = 'test_meal_web'
    var = ROOT / 'var'
    password_file = var / f'{template}.password'
    stamp = var / f'{template}.fingerprint'
    fingerprint = elderctl.addons_fingerprint(MODULES) + (
        ROOT / 'tools' / 'demo_meal.py').read_text()
    (var / 'test-locks').mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(str(var / 'test-locks' / template)):
        if not (password_file.exists() and stamp.exists()
                and stamp.read_text() == fingerprint
                and elderctl.database_exists(uri, template)):
            elderctl.drop_database(uri, template)
            elderctl.write_private(password_file,
                elderctl.new_password() + '\n')
            old = os.environ.get('ELDER_MODULES')
            os.environ['ELDER_MODULES'] = ','.join(MODULES)
            try:  # no demo data from create_database with ELDER_MODULES
                elderctl.create_database(uri, template, MODULES,
                    password_file, env)
            finally:
                if old is None:
                    os.environ.pop('ELDER_MODULES')
                else:
                    os.environ['ELDER_MODULES'] = old
            try:
                _run([sys.executable, str(ROOT / 'tools' / 'demo.py'),
                        '--database', template], env)
                _run([sys.executable, str(ROOT / 'tools' / 'demo_meal.py'),
                        '-d', template], env)
            except BaseException:
                elderctl.drop_database(uri, template)
                raise
            stamp.write_text(fingerprint)
        database = f'test_meal_web_{worker}'
        elderctl.drop_database(uri, database)
        elderctl.create_database_from(uri, database, template)
    port = elderctl.free_port()
    log = ROOT / 'test-output' / f'gunicorn-meal-{worker}.log'
    log.parent.mkdir(exist_ok=True)
    with open(log, 'w') as log_file:
        process = elderctl.start_gunicorn(database, '127.0.0.1', port, 1, env,
            stdout=log_file, stderr=log_file)
    try:
        try:
            elderctl.wait_listening('127.0.0.1', port, process)
        except Exception as error:
            pytest.fail(f'{error}\n{log.read_text()[-3000:]}', pytrace=False)
        import types
        yield types.SimpleNamespace(url=f'http://127.0.0.1:{port}/',
            database=database)
    finally:
        elderctl.stop_process(process)
        elderctl.drop_database(uri, database)


@pytest.fixture(scope='module')
def people(meal_server):
    "The registered people of the demo canteen: the face one and two others"
    return server_python(meal_server.database, f'''
pool = Pool()
Point = pool.get('meal.point')
point, = Point.search([('code', '=', {POINT!r})])
enrolled = {{m.elder.id for m in point.gallery.members if m.elder}}
members = sorted(point.members, key=lambda e: e.id)
face = [e for e in members if e.id in enrolled][0]
others = [e for e in members if e.id not in enrolled and e.meal_card
    and e.state == 'active']
result = {{'face': {{'id': face.id, 'name': face.name}},
    'id_card': {{'id': others[0].id, 'name': others[0].name,
        'number': others[0].id_number}},
    'qr': {{'id': others[1].id, 'name': others[1].name,
        'code': 'ELDERMEAL:' + others[1].meal_card}}}}
''')


def _url(meal_server):
    return f'{meal_server.url}{meal_server.database}/meal/h5/counter/'


def _login(page, meal_server):
    page.goto(_url(meal_server))
    page.locator('#login').fill(LOGIN)
    page.locator('#password').fill(_demo_password())
    page.locator('#login-submit').click()
    page.locator('#counter-view').wait_for(timeout=TIMEOUT)
    # outside the opening hours no period is chosen: take lunch
    page.locator('#periods button[data-period=lunch]').click()
    assert page.locator('#periods button[data-period=lunch]'
        ).get_attribute('aria-pressed') == 'true'


def _order(database, elder_id, after):
    "The lunches served to the person since check-in id after"
    return sql(database,
        'SELECT o.number, o.price, o.subsidy_amount, o.self_pay_amount, '
        'o.checkin_method FROM meal_order o JOIN meal_checkin c '
        'ON c."order" = o.id WHERE o.elder = %s AND c.id > %s '
        "AND o.meal_period = 'lunch' AND o.state = 'served' ORDER BY o.id",
        [elder_id, after])


def _last_checkin(database):
    return sql(database, 'SELECT coalesce(max(id), 0) FROM meal_checkin')[0][0]


def _money(value):
    return f'¥{value:.2f}'


def _result(page):
    page.locator('#result-view').wait_for(timeout=TIMEOUT)
    rows = page.locator('#result .row')
    return page.locator('#result .verdict').inner_text(), {
        rows.nth(i).locator('.label').inner_text():
        rows.nth(i).locator('.value').inner_text()
        for i in range(rows.count())}


def test_page_texts(meal_server):
    "The page in Chinese by default, English on request; no other origin"
    for language, title in [(None, '助餐点签到终端'),
            ('en-US,en;q=0.8', 'Canteen Counter')]:
        request = urllib.request.Request(  # noqa: S310 (http test server)
            _url(meal_server),
            headers={'Accept-Language': language} if language else {})
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (http test server)
            assert "default-src 'self'" in \
                response.headers['Content-Security-Policy']
            body = response.read().decode()
        assert f'<title>{title}</title>' in body
        assert '{{' not in body and 'http://' not in body
        catalogue = json.loads(body.split('id="i18n">')[1].split(
                '</script>')[0])
        assert catalogue['self_pay'] == (
            'To pay' if language else '个人自付')


def test_face_checkin(meal_server, browser, people):
    "刷脸签到: the enrolled person gets the subsidised price; a stranger not"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**TABLET)
    page = context.new_page()
    requests = []
    page.on('request', lambda r: requests.append(r.url))
    start = _last_checkin(meal_server.database)
    try:
        _login(page, meal_server)
        page.screenshot(path=str(OUTPUT / 'meal_counter.png'),
            full_page=True)
        _check_ageing_friendly(page, '#counter-view button, #method-face')

        page.locator('#photo').set_input_files(
            str(FACES / 'amy' / 'amy4.png'))
        verdict, rows = _result(page)
        page.screenshot(path=str(OUTPUT / 'meal_face_accepted.png'),
            full_page=True)
        (number, price, subsidy, self_pay, method), = _order(
            meal_server.database, people['face']['id'], start)
        assert verdict == '✔ 签到成功' or verdict.endswith('签到成功')
        assert method == 'face'
        assert rows['姓名'] == people['face']['name']
        assert rows['餐费'] == _money(price)
        assert rows['补贴金额'] == _money(subsidy)
        assert rows['个人自付'] == _money(self_pay)
        assert subsidy > 0 and subsidy + self_pay == price
        _check_ageing_friendly(page, '#result .value, #next', amounts=True)

        page.locator('#next').click()
        page.locator('#counter-view').wait_for(timeout=TIMEOUT)
        page.locator('#periods button[data-period=lunch]').click()
        page.locator('#photo').set_input_files(
            str(FACES / 'penny' / 'penny1.png'))
        verdict, rows = _result(page)
        page.screenshot(path=str(OUTPUT / 'meal_face_refused.png'),
            full_page=True)
        assert verdict.endswith('签到未通过')
        assert rows['原因'] and rows['原因'] != 'no_match', rows
        origin = meal_server.url.rstrip('/')
        assert all(u.startswith(origin) or u.startswith(('data:', 'blob:'))
            for u in requests), requests
    finally:
        context.close()
    (count,), = sql(meal_server.database,
        "SELECT count(*) FROM meal_checkin WHERE method = 'face' "
        "AND result = 'rejected' AND id > %s", [start])
    assert count == 1


def test_id_card_and_qr(meal_server, browser, people):
    "身份证号 and 助餐卡 check-ins; a code that is not a meal card refused"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(**TABLET)
    page = context.new_page()
    start = _last_checkin(meal_server.database)
    try:
        _login(page, meal_server)
        page.locator('#method-id').click()
        page.locator('#id-number').fill(people['id_card']['number'])
        page.locator('#id-form button[type=submit]').click()
        verdict, rows = _result(page)
        (number, price, subsidy, self_pay, method), = _order(
            meal_server.database, people['id_card']['id'], start)
        assert verdict.endswith('签到成功') and method == 'id_card'
        assert rows['姓名'] == people['id_card']['name']
        assert (rows['餐费'], rows['补贴金额'], rows['个人自付']) == (
            _money(price), _money(subsidy), _money(self_pay))
        page.screenshot(path=str(OUTPUT / 'meal_id_card.png'),
            full_page=True)

        page.locator('#next').click()
        page.locator('#counter-view').wait_for(timeout=TIMEOUT)
        page.locator('#periods button[data-period=lunch]').click()
        before = _last_checkin(meal_server.database)
        page.locator('#method-qr').click()
        page.locator('#qr-code').fill('https://example.com/not-a-card')
        page.locator('#qr-form button[type=submit]').click()
        page.locator('#message.error').wait_for(timeout=TIMEOUT)
        message = page.locator('#message').inner_text()
        assert message and 'Traceback' not in message
        assert any('\u4e00' <= c <= '\u9fff' for c in message), message
        page.screenshot(path=str(OUTPUT / 'meal_qr_error.png'),
            full_page=True)
        assert _last_checkin(meal_server.database) == before

        page.locator('#qr-code').fill(people['qr']['code'])
        page.locator('#qr-form button[type=submit]').click()
        verdict, rows = _result(page)
        (number, price, subsidy, self_pay, method), = _order(
            meal_server.database, people['qr']['id'], start)
        assert verdict.endswith('签到成功') and method == 'qr'
        assert rows['姓名'] == people['qr']['name']
        assert rows['个人自付'] == _money(self_pay)
    finally:
        context.close()


def _check_ageing_friendly(page, selector, amounts=False):
    "Text ≥ 18 px, buttons ≥ 60×60 px, contrast ≥ 4.5:1 (CODES.md)"
    problems = []
    elements = page.locator(selector)
    assert elements.count() > 0
    for i in range(elements.count()):
        element = elements.nth(i)
        if not element.is_visible():
            continue
        style = element.evaluate(STYLE_JS)
        text = element.inner_text().strip()[:20]
        if style['font'] < 18:
            problems.append(f'{text}: font {style["font"]}px')
        if element.evaluate('e => e.tagName') in {'BUTTON', 'LABEL'} and (
                style['width'] < 60 or style['height'] < 60):
            problems.append(f'{text}: {style["width"]}×{style["height"]}')
        ratio = contrast(rgb(style['color']), rgb(style['background']))
        if ratio < 4.5:
            problems.append(f'{text}: contrast {ratio:.2f}')
    if amounts:
        for name in ['#result .subsidy .value', '#result .self-pay .value']:
            size = page.locator(name).evaluate(
                'e => parseFloat(getComputedStyle(e).fontSize)')
            if size < 30:
                problems.append(f'{name}: {size}px')
    assert not problems, problems

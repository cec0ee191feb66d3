"""The supervision big screen (elder_bi) in headless Chromium, with live
figures from the embedded store that agree with the database.

Builds its own database (elder_bi with the landed subsystem modules and the
demo data of tools/demo.py), starts the analytics service
(``python -m trytond.modules.elder_bi.sync serve``, chdb in a temporary
folder) and gunicorn, then:
- logs in as ``supervisor`` (呼和浩特市) at 1920×1080: the older people,
  orders and devices on the screen equal the database's counts; drills down
  to 新城区 and back; screenshot test-output/browser/bi_screen_*.png;
- logs in as ``supervisor_xc`` (新城区): the screen shows 新城区 only and
  asking for 回民区 is refused (403);
- a 800 px wide window stacks the panels (responsive);
and prints the time from login to the figures drawn (dashboard load time).
"""
import base64
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import types
import urllib.error
import urllib.request

import pytest
from h5_tools import OUTPUT, ROOT, TIMEOUT, uri

import elderctl

DATABASE = 'test_bi_web'
MODULES = ['elder_bi', 'elder_service', 'elder_device', 'elder_callcenter',
    'elder_assess']


def _demo_password():
    spec = importlib.util.spec_from_file_location(
        'elder_demo', ROOT / 'tools' / 'demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEMO_PASSWORD



def query(statement):
    import psycopg
    with psycopg.connect(uri().rstrip('/') + '/' + DATABASE) as connection:
        return connection.execute(statement).fetchall()


@pytest.fixture(scope='module')
def site():
    if not (uri() or '').startswith('postgresql'):
        pytest.fail('needs TRYTOND_DATABASE__URI (PostgreSQL)')
    env = elderctl.tryton_env(uri())
    for name in ['DB_NAME', 'DB_CACHE', 'TRYTOND_DATABASE__PATH',
            'ELDER_MODULES']:
        env.pop(name, None)
    env.update(TRYTOND_LOGGING_LEVEL='30')
    os.environ.pop('ELDER_MODULES', None)
    # ELDER_BI_KEEP_DB=1 keeps the database for the next run (it takes
    # minutes to build with the demo data)
    keep = bool(os.environ.get('ELDER_BI_KEEP_DB'))
    password = ROOT / 'var' / f'{DATABASE}.password'
    if not (keep and password.exists()
            and elderctl.database_exists(uri(), DATABASE)):
        elderctl.drop_database(uri(), DATABASE)
        elderctl.write_private(password, elderctl.new_password() + '\n')
        elderctl.create_database(uri(), DATABASE, MODULES, password, env)
    store = tempfile.mkdtemp(prefix='bi-web-', dir=str(ROOT / 'var'))
    log_dir = ROOT / 'test-output'
    log_dir.mkdir(exist_ok=True)
    service_log = open(log_dir / 'bi-service.log', 'w')
    started = time.monotonic()
    service = subprocess.Popen([sys.executable, '-m',  # noqa: S603 (fixed argv)
            'trytond.modules.elder_bi.sync', 'serve', '-d', DATABASE,
            '--dsn', 'chdb://' + store, '--interval', '3'],
        cwd=ROOT, env=env, stdout=service_log, stderr=subprocess.STDOUT)
    port = elderctl.free_port()
    web_log = open(log_dir / 'gunicorn-bi.log', 'w')
    web = elderctl.start_gunicorn(DATABASE, '127.0.0.1', port, 2, env,
        stdout=web_log, stderr=web_log)
    try:
        elderctl.wait_listening('127.0.0.1', port, web)
        # the first sync of this service is done when its heartbeat is
        # later than its start (a kept database has older status rows)
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            rows = query("SELECT count(*) FROM bi_configuration "  # noqa: S608 (test constants)
                "WHERE service_heartbeat > (now() AT TIME ZONE 'UTC') "
                "- interval '1 second' * %d" % int(
                    time.monotonic() - started + 1))
            if rows[0][0]:
                break
            assert service.poll() is None, (
                log_dir / 'bi-service.log').read_text()[-3000:]
            time.sleep(1)
        else:
            pytest.fail('the analytics service did not sync')
        yield types.SimpleNamespace(url=f'http://127.0.0.1:{port}/',
            password=_demo_password())
    finally:
        elderctl.stop_process(web)
        elderctl.stop_process(service)
        shutil.rmtree(store, ignore_errors=True)
        if not keep:
            elderctl.drop_database(uri(), DATABASE)


def screen_url(site):
    return f'{site.url}{DATABASE}/bi/screen/'


def login(page, site, user):
    page.goto(screen_url(site))
    page.locator('#login').fill(user)
    page.locator('#password').fill(site.password)
    start = time.perf_counter()
    page.locator('#login-submit').click()
    page.wait_for_selector('body[data-loaded]', timeout=TIMEOUT)
    page.wait_for_selector('#c-orders canvas', timeout=TIMEOUT)
    return time.perf_counter() - start


def kpi(page, index):
    return page.locator('.kpi .value').nth(index).inner_text()


def count_in(code, table, where=''):
    return query(
        "SELECT count(*) FROM %s x JOIN elder_region r ON r.id = x.region "  # noqa: S608 (test constants)
        "WHERE r.path LIKE (SELECT path FROM elder_region WHERE code = '%s') "
        "|| '%%' %s" % (table, code, where))[0][0]


def test_big_screen(site, browser):
    OUTPUT.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(viewport={'width': 1920, 'height': 1080},
        locale='zh-CN', timezone_id='Asia/Shanghai')
    page = context.new_page()
    external = []
    page.on('request', lambda r: external.append(r.url)
        if not r.url.startswith(site.url) else None)
    seconds = login(page, site, 'supervisor')
    print(f'dashboard load (login to figures drawn): {seconds:.2f} s')
    (ROOT / 'test-output' / 'bi-dashboard-load.txt').write_text(
        f'{seconds:.3f}\n')
    page.screenshot(path=str(OUTPUT / 'bi_screen_city.png'))
    assert page.locator('#region-name').inner_text() == '呼和浩特市'
    assert page.locator('h1').inner_text() == '居家社区养老大数据监管'
    # live figures agree with the database
    elders = count_in('150100', 'elder_elder', "AND x.state = 'active'")
    assert kpi(page, 0).replace(',', '') == str(elders)
    devices = count_in('150100', 'device_device',
        "AND x.state IN ('installed', 'active', 'fault')")
    assert kpi(page, 3).endswith('%') or devices == 0
    assert page.locator('.kpi .sub').nth(3).inner_text().replace(
        ',', '').endswith('/ %s' % devices)
    # a figure links to the records in the web client
    href = page.locator('.kpi .value a').first.get_attribute('href')
    assert href.startswith(f'/#{DATABASE}/model/elder.elder;domain=')
    assert not external, external
    # drill down to 新城区 and back up
    page.locator('#children-links button', has_text='新城区').click()
    page.locator('#region-name:text-is("新城区")').wait_for(timeout=TIMEOUT)
    xc = count_in('150102', 'elder_elder', "AND x.state = 'active'")
    assert kpi(page, 0).replace(',', '') == str(xc)
    page.screenshot(path=str(OUTPUT / 'bi_screen_district.png'))
    page.locator('#chain a', has_text='呼和浩特市').click()
    page.locator('#region-name:text-is("呼和浩特市")').wait_for(
        timeout=TIMEOUT)
    # responsive: panels stack on a narrow window
    page.set_viewport_size({'width': 800, 'height': 1000})
    widths = page.evaluate("[...document.querySelectorAll('.panel')]"
        ".slice(0, 2).map(p => p.getBoundingClientRect().width)")
    assert min(widths) > 700
    page.screenshot(path=str(OUTPUT / 'bi_screen_narrow.png'), full_page=True)
    context.close()


def test_district_scope(site, browser):
    context = browser.new_context(viewport={'width': 1920, 'height': 1080},
        locale='zh-CN')
    page = context.new_page()
    login(page, site, 'supervisor_xc')
    assert page.locator('#region-name').inner_text() == '新城区'
    xc = count_in('150102', 'elder_elder', "AND x.state = 'active'")
    assert kpi(page, 0).replace(',', '') == str(xc)
    assert page.locator('#chain a').count() == 0  # nothing above
    context.close()
    huimin = query("SELECT id FROM elder_region WHERE code = '150103'")[0][0]
    token = base64.b64encode(
        f'supervisor_xc:{site.password}'.encode()).decode()
    request = urllib.request.Request(  # noqa: S310 (local test server)
        f'{site.url}{DATABASE}/bi/screen/data?region={huimin}',
        headers={'Authorization': 'Basic ' + token})
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(request, timeout=60)  # noqa: S310 (local test server)
    assert error.value.code == 403
    own = urllib.request.Request(  # noqa: S310 (local test server)
        f'{site.url}{DATABASE}/bi/screen/data',
        headers={'Authorization': 'Basic ' + token})
    with urllib.request.urlopen(own, timeout=60) as response:  # noqa: S310 (local test server)
        data = json.load(response)
    assert data['region']['name'] == '新城区'
    assert data['elders'] == xc

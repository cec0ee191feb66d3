"""The caregiver's H5 worker app on a phone, in Chinese.

Logs in as the demo user ``caregiver`` (tools/demo.py, tools/demo_service.py:
three tasks today) on GET /<db>/service/h5/worker/ with a 390×844 touch
viewport and emulated geolocation, then
- walks one task through 出发 → 签到 at the older person's home → ticks the
  steps → 签退 with a signature drawn on the canvas → 服务已完成, and checks
  the order in the database;
- checks another task in 5 km away and sees 已标记待审核：超出地理围栏.
Also checks the page's assets (content types, cache headers, nothing from
another origin) and the ageing-friendly minimums of a worker page (text
≥ 16 px, tap targets ≥ 44×44 px, contrast ≥ 4.5:1).
Screenshots: test-output/browser/worker_*.png.
"""
import base64
import importlib.util
import json
import math
import urllib.request

import pytest
from h5_tools import (
    OUTPUT, PHONE, ROOT, STYLE_JS, TIMEOUT, contrast, rgb, sql)

LOGIN = 'caregiver'


def _demo_password():
    spec = importlib.util.spec_from_file_location(
        'elder_demo', ROOT / 'tools' / 'demo.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.DEMO_PASSWORD


def _tasks(web_server):
    "Today's tasks of the caregiver, from the worker route (HTTP Basic)"
    token = base64.b64encode(
        f'{LOGIN}:{_demo_password()}'.encode()).decode()
    request = urllib.request.Request(  # noqa: S310 (http test server)
        f'{web_server.url}{web_server.database}/service/worker/tasks',
        headers={'Authorization': 'Basic ' + token})
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (http test server)
        return json.load(response)['tasks']


def _app_url(web_server):
    return f'{web_server.url}{web_server.database}/service/h5/worker/'


def _phone(browser, latitude, longitude):
    context = browser.new_context(**PHONE,
        geolocation={'latitude': latitude, 'longitude': longitude,
            'accuracy': 10})
    context.grant_permissions(['geolocation'])
    return context


def _login(page, web_server):
    requests = []
    page.on('request', lambda r: requests.append(r.url))
    page.goto(_app_url(web_server))
    page.locator('#login').fill(LOGIN)
    page.locator('#password').fill(_demo_password())
    page.screenshot(path=str(OUTPUT / 'worker_login.png'))
    page.locator('#login-submit').click()
    page.locator('button.task').first.wait_for(timeout=TIMEOUT)
    return requests


def _open(page, order_id):
    page.locator(f'button.task[data-order="{order_id}"]').click()
    page.locator('#task-state').wait_for(timeout=TIMEOUT)


def _moved(lat, lon, metres_north):
    return lat + metres_north / 111320, lon


@pytest.fixture(scope='module')
def tasks(web_server):
    tasks = _tasks(web_server)
    assert len(tasks) >= 2, tasks
    assert all(t['latitude'] is not None for t in tasks), tasks
    return tasks


def test_assets(web_server):
    "index.html, app.js, app.css: content types, cache headers, CSP"
    base = _app_url(web_server)
    for name, kind, cache in [
            ('', 'text/html', 'no-cache'),
            ('app.js', 'javascript', 'max-age'),
            ('app.css', 'text/css', 'max-age')]:
        with urllib.request.urlopen(  # noqa: S310 (http test server)
                base + name, timeout=60) as response:
            assert kind in response.headers['Content-Type'], name
            assert 'charset=utf-8' in response.headers['Content-Type']
            assert cache in response.headers['Cache-Control'], name
            assert response.headers['ETag']
            assert "default-src 'self'" in \
                response.headers['Content-Security-Policy']
            body = response.read().decode()
        assert 'http://' not in body and '//cdn' not in body, name
    # The texts are translatable: Chinese by default, English on request.
    for language, title, login in [
            (None, '护理员工作台', '登录名'),
            ('zh-CN,zh;q=0.9', '护理员工作台', '登录名'),
            ('en-US,en;q=0.8', 'Caregiver Workbench', 'Login')]:
        request = urllib.request.Request(  # noqa: S310 (http test server)
            base, headers={'Accept-Language': language} if language else {})
        with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (http test server)
            assert 'Accept-Language' in response.headers['Vary']
            body = response.read().decode()
        assert f'<title>{title}</title>' in body, language
        assert f'<label for="login">{login}</label>' in body, language
        catalogue = json.loads(body.split('id="i18n">')[1].split(
                '</script>')[0])
        assert catalogue['anomaly_geofence'] == (
            'outside the geofence' if title.startswith('C')
            else '超出地理围栏')
        assert '{{' not in body
    with pytest.raises(urllib.error.HTTPError) as error:
        urllib.request.urlopen(  # noqa: S310 (http test server)
            base + '..%2F..%2Fh5.py', timeout=60)
    assert error.value.code in {404, 405}  # never the file


def test_worker_visit(web_server, browser, tasks):
    "出发 → 签到 at home → steps → 签退 with a signature → completed"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    task = next(t for t in tasks if t['state'] == 'accepted')
    lat, lon = float(task['latitude']), float(task['longitude'])
    context = _phone(browser, *_moved(lat, lon, 15))
    page = context.new_page()
    try:
        requests = _login(page, web_server)
        assert page.locator('button.task').count() == len(tasks)
        page.screenshot(path=str(OUTPUT / 'worker_tasks.png'), full_page=True)
        _check_worker_page(page)

        _open(page, task['id'])
        assert page.locator('#task-state').inner_text() == '待出发'
        geo = page.locator('a[data-nav=geo]').get_attribute('href')
        assert geo.startswith(f'geo:{lat},{lon}'), geo
        page.locator('#depart').click()
        page.locator('#message').filter(has_text='已出发').wait_for(
            timeout=TIMEOUT)
        assert page.locator('#task-state').inner_text() == '已出发'

        if page.locator('#photo-before').count():
            page.locator('#photo-before').set_input_files(files=[{
                        'name': 'before.png', 'mimeType': 'image/png',
                        'buffer': _png()}])
        page.locator('#checkin').click()
        page.locator('#message').filter(has_text='签到成功').wait_for(
            timeout=TIMEOUT)
        assert '超出地理围栏' not in page.locator('#message').inner_text()
        assert page.locator('#task-state').inner_text() == '服务中'

        steps = page.locator('input.step')
        assert steps.count() >= 1
        for i in range(steps.count()):
            steps.nth(i).check()
        if page.locator('#photo-after').count():
            page.locator('#photo-after').set_input_files(files=[{
                        'name': 'after.png', 'mimeType': 'image/png',
                        'buffer': _png()}])
        # 签退 without a signature is refused in words
        page.locator('#checkout').click()
        assert '错误：' in page.locator('#message').inner_text()
        _sign(page)
        page.screenshot(path=str(OUTPUT / 'worker_checkout.png'),
            full_page=True)
        page.locator('#checkout').click()
        page.locator('#done').wait_for(timeout=TIMEOUT)
        assert '服务已完成' in page.locator('#done').inner_text()
        page.screenshot(path=str(OUTPUT / 'worker_completed.png'),
            full_page=True)
        origin = web_server.url.rstrip('/')
        assert all(u.startswith(origin) or u.startswith(('data:', 'blob:'))
            for u in requests), requests
    finally:
        context.close()

    (state, distance, steps_done, steps_all, signatures), = sql(
        web_server.database,
        'SELECT o.state, o.checkin_distance, '
        '(SELECT count(*) FROM service_order_step s '
        ' WHERE s.order = o.id AND s.done), '
        '(SELECT count(*) FROM service_order_step s WHERE s.order = o.id), '
        "(SELECT count(*) FROM ir_attachment a WHERE a.resource = "
        "'service.order,' || o.id AND a.name LIKE 'signature-%%') "
        'FROM service_order o WHERE o.id = %s', [task['id']])
    assert state == 'completed'
    assert distance is not None and distance < 100
    assert steps_done == steps_all
    assert signatures == 1


def test_worker_checkin_outside_geofence(web_server, browser, tasks):
    "签到 5 km from the home: the visit goes on, flagged 超出地理围栏"
    OUTPUT.mkdir(parents=True, exist_ok=True)
    task = [t for t in tasks if t['state'] == 'accepted'][-1]
    lat, lon = float(task['latitude']), float(task['longitude'])
    context = _phone(browser, *_moved(lat, lon, 5000))
    page = context.new_page()
    try:
        _login(page, web_server)
        _open(page, task['id'])
        if page.locator('#photo-before').count():
            page.locator('#photo-before').set_input_files(files=[{
                        'name': 'before.png', 'mimeType': 'image/png',
                        'buffer': _png()}])
        page.locator('#checkin').click()
        page.locator('#flags').wait_for(timeout=TIMEOUT)
        assert '已标记待审核：超出地理围栏' in page.locator('#flags').inner_text()
        assert '超出地理围栏' in page.locator('#message').inner_text()
        assert page.locator('#task-state').inner_text() == '服务中'
        page.screenshot(path=str(OUTPUT / 'worker_geofence.png'),
            full_page=True)
    finally:
        context.close()
    (flagged, distance), = sql(web_server.database,
        'SELECT flagged, checkin_distance FROM service_order WHERE id = %s',
        [task['id']])
    assert flagged
    assert math.isclose(distance, 5000, rel_tol=0.05), distance


def test_worker_login_errors(web_server, browser):
    "A wrong password is said in words"
    context = browser.new_context(**PHONE)
    page = context.new_page()
    try:
        page.goto(_app_url(web_server))
        page.locator('#login').fill(LOGIN)
        page.locator('#password').fill('wrong-password')
        page.locator('#login-submit').click()
        message = page.locator('#message.error')
        message.wait_for(timeout=TIMEOUT)
        assert '错误：' in message.inner_text()
        assert '密码' in message.inner_text()
    finally:
        context.close()


def _check_worker_page(page):
    "Text ≥ 16 px, buttons ≥ 44×44, contrast ≥ 4.5:1 on the task list"
    for selector in ['button.task', '#refresh', '#logout',
            'button.task strong', 'button.task .line']:
        style = page.locator(selector).first.evaluate(STYLE_JS)
        assert style['font'] >= 16, (selector, style)
        assert contrast(rgb(style['color']), rgb(style['background'])) \
            >= 4.5, (selector, style)
        if selector.startswith(('#', 'button.task')) and ' ' not in selector:
            assert style['width'] >= 44 and style['height'] >= 44, \
                (selector, style)


def _sign(page):
    box = page.locator('#signature').bounding_box()
    page.mouse.move(box['x'] + 30, box['y'] + 100)
    page.mouse.down()
    for i in range(1, 12):
        page.mouse.move(box['x'] + 30 + i * 25,
            box['y'] + 100 + (30 if i % 2 else -30), steps=3)
    page.mouse.up()


def _png():
    "A 2×2 PNG (a photo stand-in)"
    return base64.b64decode(
        'iVBORw0KGgoAAAANSUhEUgAAAAgAAAAICAIAAABLbSncAAAAEUlEQVR4nGNocFDAihiGlgQA'
        '+gM4Acru2/oAAAAASUVORK5CYII=')

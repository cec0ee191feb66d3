"""Device alarms reach an on-duty agent's screen in the web client.

The demo's call-center agent (`agent`, 其其格, group 呼叫中心坐席, region
scope 呼和浩特市 150100) is logged into sao (headless Chromium). Then, over
the real transports of the platform, against the web_server fixture's
database (gunicorn + sao, every module, tools/demo.py's data):

- a simulated watch (demo watch 9900000001) sends an SOS alarm frame (AL,
  SOS bit, with its position) over TCP to the watch server
  (`python -m bridge watch`), which answers it after the commit;
- a Zigbee smoke sensor (demo smoke_02) publishes its Zigbee2MQTT state
  with smoke: true to a Mosquitto started from deploy/mosquitto, read by
  the MQTT bridge (`python -m bridge run`);
- an NB-IoT smoke sensor on CTWing (demo IMEI 869975030000001) is pushed by
  "CTWing": an eventReport POSTed to elder_device's route of the gunicorn
  server, with the demo push token.

The messages are built by bridge/simulator.py. Each raises an alarm whose
res.notification trytond pushes over its bus (PostgreSQL NOTIFY → the long
poll of sao): the agent's notification badge counts them without a reload,
sao pops a desktop notification for each (observed: the page's
Notification constructor is wrapped to record its calls, then calls the
browser's own), and the notification menu lists them with the older
person, the address, the contacts and the last position. Screenshot:
test-output/browser/alarm_notifications.png.
"""
import datetime as dt
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OUTPUT = ROOT / 'test-output' / 'browser'
TIMEOUT = 60_000  # ms
AGENT = 'agent'
WATCH = '9900000001'
ZIGBEE_SMOKE = 'smoke_02'
NBIOT_IMEI = '869975030000001'
POSITION = (40.8424, 111.749)

paho = pytest.importorskip('paho.mqtt.client')

from bridge import simulator, watch  # noqa: E402
from test_bridge_mqtt import Broker, BridgeProcess, wait_for  # noqa: E402
from h5_tools import (  # noqa: E402
    RECORD_NOTIFICATIONS, active_tab, demo_module, open_menu_path)

sys.path.insert(0, str(ROOT / 'tools'))
import elderctl  # noqa: E402

def _query(database, sql, params=None):
    import psycopg
    uri = (os.environ.get('TRYTOND_DATABASE__URI')
        or os.environ.get('TRYTOND_DATABASE_URI'))
    with psycopg.connect(uri, dbname=database, autocommit=True) as conn:
        return conn.execute(sql, params).fetchall()


def _device_facts(database):
    "identifier → (older person's name, contact names) of the 3 devices"
    facts = {}
    for identifier, elder_id, name in _query(database,
            'SELECT d.identifier, e.id, e.name FROM device_device d '
            'JOIN elder_elder e ON e.id = d.elder '
            'WHERE d.identifier IN (%s, %s, %s)',
            [WATCH, ZIGBEE_SMOKE, NBIOT_IMEI]):
        contacts = [c for c, in _query(database,
                'SELECT name FROM elder_contact WHERE elder = %s',
                [elder_id])]
        facts[identifier] = (name, contacts)
    return facts


def _login(page, url, database, login, password):
    page.goto(url)
    select = page.locator('select#database')
    entry = page.locator('input#database')
    page.locator('select#database:visible, input#database:visible').first\
        .wait_for(state='visible', timeout=TIMEOUT)
    if select.is_visible():
        select.locator(f'option[value="{database}"]').wait_for(
            state='attached', timeout=TIMEOUT)
        select.select_option(database)
    elif entry.is_visible() and entry.is_enabled():
        entry.fill(database)
    page.locator('input#login').fill(login)
    page.locator('button[type=submit]').click()
    password_entry = page.locator('.modal input[type=password]')
    password_entry.wait_for(state='visible', timeout=TIMEOUT)
    password_entry.fill(password)
    password_entry.press('Enter')
    password_entry.wait_for(state='detached', timeout=TIMEOUT)


def _bridge_env():
    env = elderctl.tryton_env(os.environ['TRYTOND_DATABASE__URI'],
        PYTHONPATH=str(ROOT))
    for name in ['DB_NAME', 'DB_CACHE', 'TRYTOND_DATABASE__PATH']:
        env.pop(name, None)
    return env


def _message(ts, values, kind):
    return {'id': 'browser-%s' % ts.strftime('%H%M%S%f'),
        'ts': ts.isoformat(), 'kind': kind, 'values': values}


def _watch_sos(port):
    "A simulated watch's SOS over TCP; returns the server's answer"
    message = _message(dt.datetime.now(dt.timezone.utc).replace(
            microsecond=0), {'sos': True, 'battery': 76,
            'latitude': POSITION[0], 'longitude': POSITION[1]}, 'alarm')
    frame = simulator.watch_frame(WATCH, message)
    with socket.create_connection(('127.0.0.1', port), timeout=60) as sock:
        sock.sendall(frame)
        answer = b''
        while not answer.endswith(b']'):
            chunk = sock.recv(100)
            assert chunk, 'the watch server closed the connection'
            answer += chunk
    return answer


def _zigbee_smoke(broker):
    message = _message(dt.datetime.now(dt.timezone.utc),
        {'smoke': True, 'battery': 88}, 'alarm')
    topic, payload = simulator.zigbee_message(ZIGBEE_SMOKE, message)
    client = paho.Client(paho.CallbackAPIVersion.VERSION2,
        client_id='zigbee2mqtt-browser-test', protocol=paho.MQTTv5)
    client.connect('127.0.0.1', broker.port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(30)
    finally:
        client.loop_stop()
        client.disconnect()


def _ctwing_smoke(web_server, token):
    message = _message(dt.datetime.now(dt.timezone.utc).replace(
            microsecond=0), {'smoke': True, 'battery': 81}, 'alarm')
    message['id'] = 'sim-%s-%d' % (NBIOT_IMEI, int(
            dt.datetime.now().timestamp()))
    request = urllib.request.Request(  # noqa: S310 (http://127.0.0.1 of the test server)
        '%s%s/device/ctwing?token=%s' % (
            web_server.url, web_server.database, token),
        data=simulator.ctwing_body(NBIOT_IMEI, message).encode(),
        headers={'Content-Type': 'application/json'}, method='POST')
    with urllib.request.urlopen(request, timeout=60) as response:  # noqa: S310 (loopback)
        return response.status, json.loads(response.read())


@pytest.fixture
def transports(web_server, tmp_path):
    "The watch server, a Mosquitto and the MQTT bridge on the web database"
    if not shutil.which('mosquitto') and not os.path.exists(
            '/usr/sbin/mosquitto'):
        pytest.fail('mosquitto missing: apt-get install mosquitto')
    env = _bridge_env()
    port = elderctl.free_port()
    log = tmp_path / 'watch.log'
    watch_server = subprocess.Popen([sys.executable, '-m', 'bridge', 'watch',  # noqa: S603 (fixed argument list, no shell)
            '--database', web_server.database, '--port', str(port)],
        cwd=ROOT, env=env, stdout=open(log, 'w'), stderr=subprocess.STDOUT)
    broker = Broker(tmp_path)
    broker.start()
    saved = dict(os.environ)
    os.environ.update(env)  # BridgeProcess takes the environment from here
    bridge = BridgeProcess(web_server.database, broker, tmp_path,
        group='')
    try:
        bridge.start()
        elderctl.wait_listening('127.0.0.1', port, watch_server, 120)
        yield port, broker, bridge
    finally:
        os.environ.clear()
        os.environ.update(saved)
        bridge.stop()
        broker.stop()
        watch_server.terminate()
        watch_server.wait(30)


def test_alarms_reach_agent_screen(web_server, page, transports):
    watch_port, broker, bridge = transports
    demo = demo_module('demo')
    demo_device = demo_module('demo_device')
    facts = _device_facts(web_server.database)
    assert set(facts) == {WATCH, ZIGBEE_SMOKE, NBIOT_IMEI}, (
        'demo devices missing (tools/demo_device.py)', facts)
    page.context.grant_permissions(['notifications'],
        origin=web_server.url.rstrip('/'))
    page.add_init_script(RECORD_NOTIFICATIONS)
    page.set_viewport_size({'width': 1400, 'height': 900})
    page.set_default_timeout(TIMEOUT)
    try:
        _login(page, web_server.url, web_server.database, AGENT,
            demo.DEMO_PASSWORD)
        page.locator('#user-preferences > a.dropdown-toggle').wait_for(
            state='visible')
        # sao subscribes to the bus after the login; let the long poll start
        page.wait_for_function(
            'typeof Sao !== "undefined" && Sao.Bus && '
            'Object.keys(Sao.Bus.channel_actions).some('
            'c => c.startsWith("notification:"))')
        page.wait_for_timeout(2000)
        before = page.evaluate('window.__notifications.length')

        # 1. the watch's SOS over TCP, answered after the commit
        answer = _watch_sos(watch_port)
        assert answer == b'[3G*%s*0002*AL]' % WATCH.encode(), answer
        # 2. the Zigbee smoke sensor over MQTT, through the bridge
        _zigbee_smoke(broker)
        bridge.wait(lambda s: s.get('new', 0) >= 1,
            'the bridge to store the Zigbee message')
        # 3. CTWing's push of the NB-IoT smoke sensor
        status, answer = _ctwing_smoke(web_server,
            demo_device.DEMO_CTWING_TOKEN)
        assert (status, answer.get('status'), answer.get('new')) == (
            200, 'ok', 1), answer

        # The bus pushes each notification to the open client: the badge
        # counts them and sao pops a desktop notification for each
        page.wait_for_function(
            f'window.__notifications.length >= {before + 3}',
            timeout=TIMEOUT)
        popups = page.evaluate('window.__notifications')[before:]
        badge = page.locator('#user-preferences .notification-badge').first
        assert badge.is_visible() and re.fullmatch(
            r'[3-9]|9\+', badge.inner_text().strip()), badge.inner_text()

        # The notification menu: the older person, address, contacts and
        # last position of each alarm
        page.locator('#user-preferences > a.dropdown-toggle').click()
        items = page.locator('.notification-menu li.notification-item '
            'a[role=menuitem]:has(.notification-label)')
        wait_for(lambda: items.count() >= 3, timeout=60,
            message='3 notifications in the menu')
        shown = []
        for i in range(items.count()):
            shown.append((
                    items.nth(i).locator('.notification-label').inner_text(),
                    items.nth(i).locator(
                        '.notification-description').inner_text()))
    finally:
        OUTPUT.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(OUTPUT / 'alarm_notifications.png'))

    expected = [
        (WATCH, '紧急呼叫', '40.84240, 111.74900'),
        (ZIGBEE_SMOKE, '烟雾', None),
        (NBIOT_IMEI, '烟雾', None),
        ]
    for identifier, kind, position in expected:
        elder, contacts = facts[identifier]
        matching = [(label, text) for label, text in shown
            if identifier in label and elder in label and kind in label]
        assert matching, (identifier, kind, elder, shown)
        label, text = matching[0]
        assert text.startswith('地址：'), text
        assert '联系人：' in text and '最后位置：' in text, text
        if contacts:
            assert any(c in text for c in contacts), (contacts, text)
        if position:
            assert position in text, text
        # the same alarm was popped on the agent's desktop
        assert any(label in p['body'] for p in popups), (label, popups)
    assert re.search('[\u4e00-\u9fff]', ''.join(p['body'] for p in popups))

    # 4. The agent handles the watch's SOS end to end from the alarm queue
    # (告警处置队列), each step a button of the handling form: accept → call
    # the older person → reached → dispatch help (family notified) →
    # follow-up → close with the outcome; every step timestamped and
    # attributed to the agent, and the device alarm closed with it.
    _handle_sos(page, web_server.database, facts[WATCH][0])


def _handling_state(database, handling):
    return _query(database, 'SELECT state FROM call_alarm_handling '
        'WHERE id = %s', [handling])[0][0]


def _handle_sos(page, database, elder_name):
    handling, = [h for h, in _query(database,
            'SELECT h.id FROM call_alarm_handling h '
            'JOIN device_alarm a ON a.id = h.alarm '
            'JOIN device_device d ON d.id = a.device '
            "WHERE d.identifier = %s AND h.state = 'waiting'", [WATCH])]
    shot = 'alarm_queue.png'
    try:
        open_menu_path(page, [r'^(养老服务|Eldercare)$',
                r'^(呼叫中心|Call Center)$', r'^(告警处置队列|Alarm Queue)$'])
        tab = active_tab(page)
        row = tab.locator('.treeview table.tree tbody tr').filter(
            has_text=elder_name).filter(has_text='紧急呼叫').first
        row.wait_for(state='visible')
        page.screenshot(path=str(OUTPUT / shot))
        # the list row opens its form (on a plain cell: not a link)
        row.get_by_text('紧急呼叫').dblclick()
        shot = 'alarm_handling.png'

        def press(label, state):
            button = tab.locator('div.form').get_by_role('button',
                name=label, exact=True)
            button.wait_for(state='visible')
            button.click()
            # some buttons ask first (dispatch, close)
            confirm = page.locator('.modal.in').get_by_role('button',
                name='确定', exact=True)
            wait_for(lambda: confirm.is_visible()
                or _handling_state(database, handling) == state,
                timeout=60, message=f'{label}: asked or done')
            if confirm.is_visible():
                confirm.click()
            wait_for(lambda: _handling_state(database, handling) == state,
                timeout=60, message=f'{label} → {state}')

        def choose(field, label):
            select = tab.locator(f'div.form select[name="{field}"]').first
            select.wait_for(state='visible')
            select.select_option(label=label)
            select.press('Tab')

        press('受理', 'accepted')
        press('呼叫老人', 'calling_elder')
        reached = tab.locator('div.form').get_by_role('button',
            name='已联系上', exact=True)
        reached.click()
        wait_for(lambda: _query(database, 'SELECT first_contact_at '
                'FROM call_alarm_handling WHERE id = %s',
                [handling])[0][0], timeout=60, message='first contact')
        choose('dispatch_kind', '已通知家属')
        press('派遣救助', 'dispatched')
        press('跟进回访', 'follow_up')
        choose('outcome', '电话解决')
        press('关闭', 'closed')
        page.wait_for_timeout(1000)
    finally:
        page.screenshot(path=str(OUTPUT / shot))

    agent, = _query(database, 'SELECT id FROM res_user WHERE login = %s',
        [AGENT])[0]
    steps = _query(database, 'SELECT action, "user", at FROM call_alarm_step '
        'WHERE handling = %s ORDER BY at, id', [handling])
    assert [s[0] for s in steps] == ['accept', 'call_elder', 'reached',
        'dispatch', 'follow_up', 'close'], steps
    assert all(user == agent and at for _, user, at in steps), steps
    accepted_by, closed_by, outcome, kind, alarm_state = _query(database,
        'SELECT h.accepted_by, h.closed_by, h.outcome, h.dispatch_kind, '
        'a.state FROM call_alarm_handling h '
        'JOIN device_alarm a ON a.id = h.alarm WHERE h.id = %s',
        [handling])[0]
    assert (accepted_by, closed_by) == (agent, agent)
    assert (outcome, kind, alarm_state) == (
        'resolved_by_phone', 'family', 'closed')

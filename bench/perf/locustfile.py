"""Locust users of the load benchmark (started by bench/perf/run.py).

The sessions (sao logins of the role accounts, caregiver and family
sessions, provider credentials) come from the JSON file PERF_SESSIONS that
run.py writes. PERF_SCENARIO=online: think times (each user acts every
PERF_THINK_MIN..PERF_THINK_MAX s); PERF_SCENARIO=burst: every user waits
until all are spawned, does exactly one operation, then idles (run.py stops
the run when all are answered).

JSON-RPC calls are shaped as sao 8.0 sends them: POST /<db>/rpc/ with
{"id", "method": "model.<name>.<method>", "params": [..., context]} and
`Authorization: Session base64(login:id:key)`; a list view is `search`
(limit 1000, the client's default) + `search_count` + `read` of the first
page (the view's fields, `<m2o>.rec_name`, `_timestamp`); a form is `read`
of the form's fields; a button is `model.<name>.<button>([ids], ctx)`.
"""
import base64
import datetime as dt
import itertools
import json
import os
import random
import sys
import time
from pathlib import Path

import gevent
from gevent.event import Event
from locust import FastHttpUser, between, constant, events, task

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / 'tools'))
from provider_report_client import build_request  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
from run import statistics_context  # noqa: E402

SCENARIO = os.environ.get('PERF_SCENARIO', 'online')
DATA = json.loads(Path(os.environ['PERF_SESSIONS']).read_text())
DB = DATA['database']
THINK = (float(os.environ.get('PERF_THINK_MIN', 5)),
    float(os.environ.get('PERF_THINK_MAX', 15)))
PAGE = 80  # rows sao reads for the first screen of a list
SURNAMES = '王李张刘陈杨赵黄周吴'
GIVEN = ['秀英', '桂英', '建国', '玉兰', '淑珍', '志强', '宝音', '其其格']

RNG = random.Random()  # noqa: S311 (load-test choices, not cryptography)
released = Event()
burst_done = itertools.count(1)
counter = itertools.count(1)


@events.spawning_complete.add_listener
def _release(user_count, **kwargs):
    released.set()


def _auth(login, uid, key):
    return 'Session ' + base64.b64encode(
        f'{login}:{uid}:{key}'.encode()).decode()


def _cycle(items):
    items = list(items)
    RNG.shuffle(items)
    return itertools.cycle(items)


SAO = {role: _cycle(s) for role, s in DATA['sao'].items()}
CAREGIVERS = _cycle(DATA['caregivers'])
FAMILIES = _cycle(DATA['families'])
CREDENTIALS = _cycle(DATA['credentials'])


class Base(FastHttpUser):
    abstract = True
    wait_time = between(*THINK) if SCENARIO == 'online' else constant(3600)
    network_timeout = 60.0
    connection_timeout = 60.0

    def on_start(self):
        if SCENARIO == 'burst':
            released.wait()

    def burst(self, op):
        "In the burst scenario: one operation (timed), then idle"
        if SCENARIO != 'burst':
            op()
            return
        start = time.perf_counter()
        error = None
        try:
            op()
        except Exception as e:  # noqa: BLE001 (counted as a failure)
            error = e
        self.environment.events.request.fire(
            request_type='OP', name='OPERATION',
            response_time=(time.perf_counter() - start) * 1000,
            response_length=0, exception=error, context={})
        if SCENARIO == 'burst':
            if next(burst_done) >= self.environment.runner.target_user_count:
                gevent.spawn_later(0.5, self.environment.runner.quit)
            gevent.sleep(3600)


class SaoUser(Base):
    abstract = True
    role = None

    def on_start(self):
        self.login, self.uid, self.key, self.ctx = next(SAO[self.role])
        self.headers = {'Authorization': _auth(
                self.login, self.uid, self.key),
            'Content-Type': 'application/json'}
        super().on_start()

    def rpc(self, method, params, name=None, context=None):
        body = json.dumps({'id': next(counter), 'method': method,
                'params': params + [dict(self.ctx, **(context or {}))]},
            ensure_ascii=False)
        with self.client.post(f'/{DB}/rpc/', data=body.encode(),
                headers=self.headers, name=name or method,
                catch_response=True) as response:
            try:
                data = response.json()
            except Exception:
                response.failure(f'HTTP {response.status_code}')
                return None
            if data.get('error'):
                response.failure(str(data['error'])[:200])
                return None
            return data.get('result')

    def list_view(self, model, domain, fields, order=None, name=None,
            context=None):
        ids = self.rpc(f'model.{model}.search',
            [domain, 0, 1000, order], name=f'{name}: search', context=context)
        if ids is None:
            return []
        if len(ids) == 1000:
            self.rpc(f'model.{model}.search_count', [domain, 0, 100 * 1000],
                name=f'{name}: search_count', context=context)
        if ids:
            self.rpc(f'model.{model}.read', [ids[:PAGE],
                    fields + ['_timestamp', '_write', '_delete',
                        'rec_name']], name=f'{name}: read page',
                context=context)
        return ids


ELDER_LIST = ['code', 'name', 'sex', 'age', 'id_number', 'region',
    'region.rec_name', 'living_situation', 'phone', 'state']
ELDER_FORM = ELDER_LIST + ['party', 'birth_date', 'ethnicity',
    'ethnicity.rec_name', 'marital_status', 'hukou_region',
    'hukou_region.rec_name', 'hukou_address', 'address', 'latitude',
    'longitude', 'categories', 'contacts', 'guardian', 'guardian.rec_name',
    'moved_date', 'death_date', 'note', 'health_summary', 'chronic_diseases']
ORDER_LIST = ['number', 'requested_date', 'time_from', 'elder',
    'elder.rec_name', 'item', 'item.rec_name', 'region', 'region.rec_name',
    'provider', 'provider.rec_name', 'practitioner',
    'practitioner.rec_name', 'channel', 'rating', 'flagged', 'state']
ALARM_LIST = ['priority', 'kind', 'elder', 'elder.rec_name', 'device',
    'device.rec_name', 'region', 'region.rec_name', 'description',
    'first_occurrence', 'last_occurrence', 'repeat_count', 'state']


class Supervisor(SaoUser):
    "Regional supervisors and operators browsing lists, forms and graphs"
    weight = 30
    role = 'supervisor'

    def elder_ids(self):
        return self.list_view('elder.elder', [], ELDER_LIST,
            name='elder list')

    @task(3)
    def browse_elders(self):
        def op():
            ids = self.elder_ids()
            if ids:
                self.rpc('model.elder.elder.read',
                    [[RNG.choice(ids[:PAGE])], ELDER_FORM],
                    name='elder form: read')
        self.burst(op)

    @task(3)
    def search_name(self):
        def op():
            text = RNG.choice(SURNAMES) + RNG.choice(GIVEN)
            self.list_view('elder.elder',
                [['rec_name', 'ilike', f'%{text}%']], ELDER_LIST,
                name='elder search by name')
        self.burst(op)

    @task(3)
    def orders_by_state(self):
        def op():
            state = RNG.choice(['submitted', 'in_service', 'completed'])
            self.list_view('service.order', [['state', '=', state]],
                ORDER_LIST, name='order list by state')
        self.burst(op)

    @task(2)
    def orders_filtered(self):
        def op():
            since = (dt.date.today() - dt.timedelta(
                    days=RNG.randint(1, 30))).isoformat()
            self.list_view('service.order', [
                    ['requested_date', '>=',
                        {'__class__': 'date', 'year': int(since[:4]),
                            'month': int(since[5:7]),
                            'day': int(since[8:])}],
                    ['flagged', '=', False]],
                ORDER_LIST, name='order list filtered by date')
        self.burst(op)

    @task(1)
    def order_graph(self):
        def op():
            # graph view (orders per state): the graph's fields of the
            # records of the domain (sao's graph reads every record)
            since = dt.date.today() - dt.timedelta(days=7)
            domain = [['requested_date', '>=', {'__class__': 'date',
                        'year': since.year, 'month': since.month,
                        'day': since.day}]]
            ids = self.rpc('model.service.order.search',
                [domain, 0, 1000, None], name='order graph: search')
            if ids:
                self.rpc('model.service.order.read',
                    [ids, ['state_name', 'counter']],
                    name='order graph: read')
        self.burst(op)

    @task(1)
    def statistics(self):
        def op():
            self.list_view('service.order.statistic', [],
                ['provider', 'provider.rec_name', 'region',
                    'region.rec_name', 'service_type',
                    'service_type.rec_name', 'orders', 'done', 'open',
                    'cancelled', 'flagged', 'rating', 'minutes'],
                name='statistics list', context=statistics_context())
        self.burst(op)


class Agent(SaoUser):
    "Call-center agents handling device alarms"
    weight = 10
    role = 'agent'

    @task
    def handle_alarm(self):
        def op():
            ids = self.list_view('device.alarm',
                [['state', 'in', ['open', 'acknowledged']]], ALARM_LIST,
                name='alarm list')
            if not ids:
                return
            alarm = RNG.choice(ids[:PAGE])
            values = self.rpc('model.device.alarm.read',
                [[alarm], ALARM_LIST + ['notes', 'elder']],
                name='alarm form: read')
            if values and values[0].get('elder'):
                self.rpc('model.elder.elder.read',
                    [[values[0]['elder']], ELDER_FORM],
                    name='elder form: read')
            # sao shows the button on open alarms only
            if (values and values[0].get('state') == 'open'
                    and RNG.random() < 0.5):
                self.rpc('model.device.alarm.acknowledge', [[alarm]],
                    name='alarm: acknowledge')
        self.burst(op)


class Caregiver(Base):
    "Caregivers: today's tasks, check-in and check-out (worker API)"
    weight = 35

    def on_start(self):
        login, uid, key = next(CAREGIVERS)
        self.headers = {'Authorization': _auth(login, uid, key),
            'Content-Type': 'application/json'}
        self.tasks_left = []
        super().on_start()

    def worker_tasks(self):
        with self.client.get(f'/{DB}/service/worker/tasks',
                headers=self.headers, name='worker: tasks',
                catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f'HTTP {response.status_code}')
                return []
            return response.json()['tasks']

    def visit(self, task, step):
        lat = task['latitude'] or 40.84
        lon = task['longitude'] or 111.66
        body = {'latitude': float(lat) + 0.0001,
            'longitude': float(lon) + 0.0001, 'accuracy': 15}
        if step == 'checkout':
            body['steps'] = [s['id'] for s in task.get('steps', [])]
        with self.client.post(f"/{DB}/service/worker/{task['id']}/{step}",
                data=json.dumps(body), headers=self.headers,
                name=f'worker: {step}', catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f'HTTP {response.status_code}: '
                    + response.text[:200])

    @task
    def work(self):
        def op():
            tasks = self.worker_tasks()
            todo = [t for t in tasks if t['state'] == 'in_service']
            if todo:
                self.visit(todo[0], 'checkout')
                return
            todo = [t for t in tasks if t['state'] in (
                    'accepted', 'on_the_way')]
            if todo:
                self.visit(RNG.choice(todo), 'checkin')
        self.burst(op)


class Family(Base):
    "Family members using the mini-program API"
    weight = 20

    def on_start(self):
        self.key = next(FAMILIES)
        self.headers = {'Authorization': f'Bearer {self.key}'}
        super().on_start()

    def get(self, path, name):
        with self.client.get(f'/{DB}/service/family/v1{path}',
                headers=self.headers, name=name,
                catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f'HTTP {response.status_code}')
                return None
            return response.json()

    @task
    def look(self):
        def op():
            kind = RNG.random()
            if kind < 0.3:
                self.get('/elders', 'family: elders')
            elif kind < 0.8:
                data = self.get('/orders', 'family: orders')
                if data and data['orders'] and RNG.random() < 0.3:
                    order = RNG.choice(data['orders'])
                    self.get(f"/orders/{order['id']}", 'family: order')
            else:
                data = self.get('/elders', 'family: elders')
                if data and data['elders']:
                    self.get(f"/elders/{data['elders'][0]['id']}/items",
                        'family: items')
        self.burst(op)


class ProviderPush(Base):
    "Providers pushing service records (encrypted, signed reporting API)"
    weight = 5

    @task
    def push(self):
        def op():
            key_id, sm4_key, hmac_secret = next(CREDENTIALS)
            path = f'/{DB}/elder/provider/v1/reports'
            record = {'record_id': 'R-%d-%d' % (os.getpid(), next(counter))
                + '-' + str(RNG.randrange(10**9)),
                'kind': 'service.visit',
                'occurred_at': dt.datetime.now().astimezone().isoformat(
                    timespec='seconds'),
                'data': {'minutes': RNG.randint(20, 120)}}
            headers, body = build_request(path, key_id, sm4_key, record,
                hmac_secret=hmac_secret)
            with self.client.post(path, data=body, headers=headers,
                    name='provider: report', catch_response=True) as response:
                if response.status_code not in (200, 201):
                    response.failure(f'HTTP {response.status_code}: '
                        + response.text[:200])
        self.burst(op)

# This file is part of the eldercare platform. See LICENSE.
"""Real telephony on loopback: Kamailio started from deploy/kamailio (its
configuration rendered by the CTI `render` command from the platform's
queues and seats, free ports), sipp callers and sipp "agent phones"
(answering, busy, ringing until cancelled), and the CTI adapter as its own
process (`python -m trytond.modules.elder_callcenter.cti run`) writing to a
PostgreSQL database copied from the elder_callcenter DB_CACHE template.

Asserts the call records, the screen pop, the KPI figures, presence-aware
routing (an away agent's phone is not rung, an available one is, a seat
with a call in progress gets no second one, no seat left: 480),
click-to-dial (the agent's click → PostgreSQL NOTIFY → adapter → REFER to
the seat phone → the phone's INVITE → the gateway rings the older
person's number), and that nothing is lost when the adapter is killed in
the middle of calls, when a seat is unknown to the platform, or when the
event stream is broken."""
import re
import os
from decimal import Decimal
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
SIPP_DIR = ROOT / 'deploy' / 'kamailio' / 'sipp'
KAMAILIO = '/usr/sbin/kamailio'
SIPP = shutil.which('sipp') or '/usr/bin/sipp'
ELDER_PHONE = '13912345678'
TIMEOUT = 60

sys.path.insert(0, str(ROOT / 'tools'))
import elderctl  # noqa: E402


def free_port(kind=socket.SOCK_STREAM):
    with socket.socket(socket.AF_INET, kind) as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def free_udp_port():
    while True:
        port = free_port(socket.SOCK_DGRAM)
        with socket.socket() as tcp:
            try:
                tcp.bind(('127.0.0.1', port))
                return port
            except OSError:
                continue


def wait_for(predicate, timeout=TIMEOUT, message='condition'):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError(f'timeout waiting for {message}')


def database_uri():
    from trytond import config
    config.update_etc()
    uri = config.get('database', 'uri') or ''
    if not uri.startswith('postgresql'):
        pytest.skip('the telephony tests need PostgreSQL')
    if not os.environ.get('DB_CACHE', '').startswith('postgresql'):
        pytest.skip('the telephony tests copy the DB_CACHE=postgresql:// '
            'template')
    for binary in [KAMAILIO, SIPP]:
        if not os.path.exists(binary):
            pytest.fail(f'{binary} missing: apt-get install kamailio '
                'kamailio-extra-modules sip-tester')
    return uri


class Env:
    "Ports, processes and the database of one telephony test module"

    def __init__(self, uri, routing='presence', pool_seats=12):
        from trytond.tests import test_tryton
        self.uri = uri
        self.dir = Path(tempfile.mkdtemp(prefix='elder-cc-'))
        template = test_tryton._db_cache_file(
            test_tryton.DB_CACHE, 'elder_callcenter').rsplit('/', 1)[1]
        if not elderctl.database_exists(uri, template):
            test_tryton.drop_db()
            test_tryton.activate_module(['elder_callcenter'])
        self.database = 'cc_%s_%s' % (
            os.environ.get('PYTEST_XDIST_WORKER', 'main'), os.getpid())
        elderctl.drop_database(uri, self.database)
        elderctl.create_database_from(uri, self.database, template)
        self.sip_port = free_udp_port()
        self.evapi_port = free_port()
        self.phones = {name: free_udp_port()
            for name in ['answer', 'busy', 'ring', 'unknown', 'pres_a',
                'pres_b', 'refer', 'gateway']}
        self.routing = routing
        self.pool_seats = pool_seats
        self.processes = {}
        self.env = dict(os.environ, PYTHONPATH=str(ROOT),
            TRYTOND_DATABASE__URI=uri)
        self.env.pop('TRYTOND_CONFIG', None)

    # --- data ---------------------------------------------------------------

    def transaction(self):
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        Pool.start()
        pool = Pool(self.database)
        with Transaction().start(self.database, 0, readonly=True):
            pool.init()
        return Transaction().start(self.database, 0)

    def create_data(self):
        """A sub-center of 呼和浩特市 with, each seat's agent available and
        without wrap-up time (available again when a call ends):
        12349 hotline → 8001 (agent1, answering phone); 12341 → 8002 (busy
        phone); 12342 → 8003 (phone ringing until cancelled); 12344 → 8005
        and 8006 (agent_a, agent_b, two answering phones: presence); 12345
        → 8101… (pool_seats seats, one answering phone); 12346 → 8004
        (agent_d, the click-to-dial phone); an older person with a phone."""
        from trytond.modules.elder_base.tests.test_access import create_user
        from trytond.modules.elder_base.tests.tools import (
            citizen_id, create_elder, region)
        from trytond.pool import Pool
        from .tools import setup_center
        with self.transaction() as transaction:
            pool = Pool()
            Queue = pool.get('call.queue')
            Seat = pool.get('call.seat')
            Agent = pool.get('call.agent')
            center = setup_center('150100', seat_code='8001')
            subcenter = center['subcenter']
            center['seat'].sip_uri = (
                f'sip:8001@127.0.0.1:{self.phones["answer"]}')
            center['seat'].save()
            center['agent'].wrap_up_seconds = 0
            center['agent'].save()
            scope = region('150100').id
            queues = [
                ('12341', 'busyq', [('8002', 'busy', 'agent_busy')]),
                ('12342', 'ringq', [('8003', 'ring', 'agent_ring')]),
                ('12344', 'presq', [('8005', 'pres_a', 'agent_a'),
                        ('8006', 'pres_b', 'agent_b')]),
                ('12345', 'poolq', [('81%02d' % i, 'answer', 'agent_p%02d' % i)
                        for i in range(1, self.pool_seats + 1)]),
                ('12346', 'dialq', [('8004', 'refer', 'agent_d')]),
                ]
            agents = []
            for number, code, seats in queues:
                queue, = Queue.create([{'name': code, 'code': code,
                            'number': number, 'subcenter': subcenter.id}])
                for seat_code, phone, login in seats:
                    seat, = Seat.create([{'code': seat_code,
                                'subcenter': subcenter.id,
                                'sip_uri': f'sip:{seat_code}@127.0.0.1:'
                                f'{self.phones[phone]}',
                                'queues': [('add', [queue.id])]}])
                    user = create_user(login, 'elder_base.group_agent',
                        elder_region=scope)
                    agents.append({'user': user.id,
                            'subcenter': subcenter.id, 'seat': seat.id,
                            'wrap_up_seconds': 0})
            Agent.go_available(Agent.create(agents))
            create_elder('王秀英', citizen_id('150102', '19450101', 1),
                '150102', phone=ELDER_PHONE)
            transaction.commit()

    def render(self):
        out = subprocess.run([sys.executable, "-m",  # noqa: S603 (fixed argument list, no shell)
                'trytond.modules.elder_callcenter.cti', 'render',
                '--database', self.database, '--out', str(self.dir / 'kam'),
                '--sip-port', str(self.sip_port),
                '--evapi-port', str(self.evapi_port), '--no-answer', '2',
                '--routing', self.routing,
                '--gateway', f'sip:127.0.0.1:{self.phones["gateway"]}'],
            cwd=ROOT, env=self.env, capture_output=True, text=True,
            timeout=120)
        assert out.returncode == 0, out.stderr[-2000:]
        config = Path(out.stdout.strip().splitlines()[-1])
        # a seat the platform does not know: Kamailio reports it anyway
        with open(config.parent / 'dispatcher.list', 'a') as file:
            file.write(f'77 sip:8099@127.0.0.1:{self.phones["unknown"]} '
                '0 0 seat=8099\n')
        queues = (config.parent / 'queues.cfg').read_text()
        queues = queues.replace('\tswitch ($rU) {', '\tswitch ($rU) {\n'
            '\t\tcase "12343":\n\t\t\t$var(qset) = 77;\n'
            '\t\t\t$var(queue) = "hotline";\n\t\t\tbreak;')
        (config.parent / 'queues.cfg').write_text(queues)
        return config

    # --- processes -----------------------------------------------------------

    def start(self, name, cmd, **kwargs):
        log = open(self.dir / f'{name}.log', 'a')
        self.processes[name] = subprocess.Popen(  # noqa: S603 (fixed argument list)
            [str(c) for c in cmd], stdout=log, stderr=subprocess.STDOUT,
            cwd=kwargs.pop('cwd', self.dir), **kwargs)
        return self.processes[name]

    def stop(self, name, sig=signal.SIGTERM):
        process = self.processes.pop(name, None)
        if process and process.poll() is None:
            process.send_signal(sig)
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()

    def start_kamailio(self, config):
        from trytond.modules.elder_callcenter.cti import kamailio
        self.start('kamailio', kamailio.command(config))
        wait_for(self._evapi_listening, 30, 'kamailio evapi socket')

    def _evapi_listening(self):
        try:
            socket.create_connection(('127.0.0.1', self.evapi_port), 1).close()
            return True
        except OSError:
            return False

    def start_adapter(self):
        self.stats_file = self.dir / 'cti-stats.json'
        return self.start('adapter', [sys.executable, '-m',
                'trytond.modules.elder_callcenter.cti', 'run',
                '--database', self.database,
                '--evapi-port', self.evapi_port,
                '--stats-file', self.stats_file], cwd=ROOT, env=self.env)

    def start_phones(self):
        proxy = f'127.0.0.1:{self.sip_port}'
        for name, scenario, extra in [
                ('answer', 'uas_answer.xml', ['-d', '300']),
                ('busy', 'uas_busy.xml', []),
                ('ring', 'uas_ring.xml', []),
                ('unknown', 'uas_answer.xml', ['-d', '100']),
                ('pres_a', 'uas_answer.xml', ['-d', '200']),
                ('pres_b', 'uas_answer.xml', ['-d', '200']),
                ('refer', 'uas_refer.xml', ['-d', '500', '-key', 'seat',
                        '8004', proxy]),
                ('gateway', 'uas_answer.xml', ['-d', '200'])]:
            self.start('phone-' + name, [SIPP, '-sf', SIPP_DIR / scenario,
                    '-i', '127.0.0.1', '-p', self.phones[name],
                    '-nostdin', '-trace_err', '-trace_msg', '-message_file',
                    self.dir / f'phone-{name}.msg', *extra])

    def invites(self, phone):
        "The INVITEs a phone received (its sipp message trace)"
        path = self.dir / f'phone-{phone}.msg'
        text = path.read_text(errors='replace') if path.exists() else ''
        return re.findall(r'message received \[\d+\] bytes :\s+'
            r'(INVITE \S+)', text)

    # --- Kamailio's routing state ---------------------------------------------

    def kamcmd(self, *args):
        from trytond.modules.elder_callcenter.cti.kamailio import kamcmd
        return kamcmd(self.dir / 'kam', *args)

    def seat_presence(self, seat):
        "The presence Kamailio routes seat by (None: never pushed)"
        try:
            out = self.kamcmd('htable.get', 'presence', f's:{seat}')
        except RuntimeError:
            return None
        match = re.search(r'value:\s*(\S+)', out)
        return match.group(1) if match else None

    def wait_presence(self, seat, state, timeout=TIMEOUT):
        wait_for(lambda: self.seat_presence(seat) == state, timeout,
            f'Kamailio to route seat {seat} as {state}')

    def set_presence(self, login, state):
        "The agent's presence button, as the agent, committed"
        from trytond.pool import Pool
        from trytond.transaction import Transaction
        with self.transaction() as transaction:
            pool = Pool()
            user, = pool.get('res.user').search([('login', '=', login)])
            Agent = pool.get('call.agent')
            with Transaction().set_user(user.id), \
                    Transaction().set_context(_check_access=True):
                agent = Agent.for_user()
                getattr(Agent, {'available': 'go_available',
                        'away': 'go_away', 'offline': 'go_offline'}[state])(
                    [agent])
                seat = agent.seat.code
            transaction.commit()
        return seat

    def call(self, scenario, number, caller=ELDER_PHONE, calls=1, extra=(),
            wait=True, rate=20):
        cmd = [SIPP, '-sf', SIPP_DIR / scenario, '-s', number,
            '-key', 'caller', caller, '-i', '127.0.0.1',
            '-p', free_udp_port(), '-m', calls, '-r', rate, '-nostdin',
            '-timeout', '30', '-timeout_error', '-trace_err', *extra,
            f'127.0.0.1:{self.sip_port}']
        process = subprocess.Popen(  # noqa: S603 (fixed argument list)
            [str(c) for c in cmd], cwd=self.dir, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL)
        if wait:
            assert process.wait(60) == 0, f'sipp {scenario} {number} failed'
        return process

    # --- reading -------------------------------------------------------------

    def calls(self):
        from trytond.pool import Pool
        with self.transaction():
            Call = Pool().get('call.call')
            return [{'call_id': c.call_id, 'state': c.state,
                    'direction': c.direction, 'callee': c.callee,
                    'outcome': c.outcome, 'caller_kind': c.caller_kind,
                    'elder': c.elder.name if c.elder else None,
                    'seat': c.seat.code if c.seat else None,
                    'seat_code': c.seat_code, 'anomaly': c.anomaly,
                    'queue': c.queue.code if c.queue else None,
                    'agent': c.agent.user.login if c.agent else None,
                    'wait': c.wait_seconds, 'talk': c.talk_seconds,
                    'failure_code': c.failure_code, 'events': len(c.events)}
                for c in Call.search([], order=[('id', 'ASC')])]

    def ended(self, count):
        calls = self.calls()
        done = [c for c in calls if c['state'] == 'ended']
        return calls if len(done) >= count else None

    def close(self):
        for name in list(self.processes):
            self.stop(name)
        from trytond.pool import Pool
        Pool.stop(self.database)
        elderctl.drop_database(self.uri, self.database)
        if not os.environ.get('ELDER_CC_KEEP'):
            shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(scope='module')
def telephony():
    env = Env(database_uri())
    try:
        env.create_data()
        env.start_kamailio(env.render())
        env.start_phones()
        env.start_adapter()
        env.wait_presence('8001', 'available')  # the adapter synced
        yield env
    finally:
        env.close()


def test_calls_screen_pop_and_kpi(telephony):
    "Answered, busy, no answer and cancelled calls → records, pop, KPIs"
    env = telephony
    before = len(env.calls())
    for i in range(3):
        # one seat: each call once the agent is available again
        env.call('uac_call.xml', '12349', extra=['-d', '500'])
        wait_for(lambda: env.ended(before + i + 1), message='call ended')
        env.wait_presence('8001', 'available')
    env.call('uac_fail.xml', '12341', caller='13800000001')
    env.call('uac_fail.xml', '12342', caller='13800000002')
    env.call('uac_cancel.xml', '12342', caller='13800000003',
        extra=['-d', '300'])
    calls = wait_for(lambda: env.ended(6), message='6 ended calls')
    assert len(calls) == 6, calls
    answered = [c for c in calls if c['outcome'] == 'answered']
    assert len(answered) == 3
    for call in answered:
        assert call['elder'] == '王秀英'
        assert call['caller_kind'] == 'elder'
        assert call['seat'] == '8001' and call['agent'] == 'agent1'
        assert call['queue'] == 'hotline'
        assert call['events'] == 4  # offered, ringing, answered, hangup
        assert 0.2 <= call['wait'] < 5, call
        assert 0.3 <= call['talk'] < 5, call
    others = sorted((c['queue'], c['outcome'], c['failure_code'])
        for c in calls if c['outcome'] != 'answered')
    assert others == [('busyq', 'busy', 486), ('ringq', 'abandoned', 487),
        ('ringq', 'no_answer', 408)]
    assert all(c['caller_kind'] == 'unknown' for c in calls
        if c['outcome'] != 'answered')

    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with env.transaction():
        KpiQueue = Pool().get('call.kpi.queue')
        KpiDay = Pool().get('call.kpi.day')
        rows = {r.queue.code: r for r in KpiQueue.search([])}
        with Transaction().set_context(from_date=None, to_date=None):
            day, = KpiDay.search([])
        assert (rows['hotline'].offered, rows['hotline'].answered) == (3, 3)
        assert rows['hotline'].answer_rate == 100
        assert (rows['ringq'].offered, rows['ringq'].abandoned) == (2, 1)
        assert (day.offered, day.answered, day.abandoned) == (6, 3, 1)
        assert day.answer_rate == 50
        assert day.abandon_rate == Decimal('16.67')


def test_unknown_seat_and_adapter_killed(telephony):
    """A seat unknown to the platform and an adapter killed (SIGKILL) while
    calls are placed: every call is recorded once, complete"""
    env = telephony
    before = len(env.calls())
    # the unknown seat 8099 of the stale set 77: route to it as available
    env.kamcmd('htable.sets', 'presence', 's:8099', 'available')
    env.call('uac_call.xml', '12343', caller='13800000004',
        extra=['-d', '200'])
    running = env.call('uac_call.xml', '12345', calls=10,
        extra=['-d', '1500'], wait=False)
    time.sleep(1.0)
    env.stop('adapter', signal.SIGKILL)
    time.sleep(1.0)
    env.start_adapter()
    assert running.wait(60) == 0
    calls = wait_for(lambda: env.ended(before + 11),
        message='11 more ended calls')
    new = calls[before:]
    assert len(new) == 11
    unknown = [c for c in new if c['seat_code'] == '8099']
    assert len(unknown) == 1
    assert unknown[0]['anomaly'] == 'unknown_seat'
    assert unknown[0]['seat'] is None
    assert unknown[0]['outcome'] == 'answered'
    rest = [c for c in new if c['seat_code'] != '8099']
    assert all(c['outcome'] == 'answered' and c['events'] == 4
        for c in rest), rest
    assert len({c['call_id'] for c in new}) == 11


def test_broken_stream_reconnects_without_loss(telephony):
    """Frames that are not netstrings or not events, in the middle of the
    event stream: counted and skipped, or the connection is made again and
    the journal replayed; no call lost, none twice."""
    from trytond.modules.elder_callcenter.cti.kamailio import (
        EvapiAdapter, encode_netstring)
    env = telephony
    # A relay between Kamailio and an in-process adapter that inserts bad
    # frames: the adapter sees Kamailio's real events plus the garbage.
    listener = socket.socket()
    listener.bind(('127.0.0.1', 0))
    listener.listen(4)
    port = listener.getsockname()[1]
    import threading
    injected = {'count': 0}

    def relay():
        while True:
            try:
                client, _ = listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(
                ('127.0.0.1', env.evapi_port))

            def pump(src, dst, inject):
                try:
                    while True:
                        data = src.recv(65536)
                        if not data:
                            break
                        if inject and injected['count'] < 2:
                            injected['count'] += 1
                            data = (encode_netstring('{"event": "nonsense"}')
                                + encode_netstring('not json') + data)
                            if injected['count'] == 2:
                                data = data + b'xx:garbage,'
                        dst.sendall(data)
                except OSError:
                    pass
                finally:
                    for s in (src, dst):
                        try:
                            s.close()
                        except OSError:
                            pass
            threading.Thread(target=pump, args=(upstream, client, True),
                daemon=True).start()
            threading.Thread(target=pump, args=(client, upstream, False),
                daemon=True).start()
    threading.Thread(target=relay, daemon=True).start()
    adapter = EvapiAdapter('127.0.0.1', port, reconnect_delay=0.2)
    seen = []

    def consume():
        for event in adapter.events():
            if event is not None:
                seen.append(event)
                adapter.position = event.position
    threading.Thread(target=consume, daemon=True).start()
    wait_for(lambda: adapter.stats['connects'] >= 1, 10, 'adapter connects')
    time.sleep(0.5)
    env.call('uac_call.xml', '12345', caller='13800000005', calls=2,
        extra=['-d', '200'])
    wait_for(lambda: adapter.stats['broken_streams'] >= 1
        and adapter.stats['connects'] >= 2, 20, 'reconnection')
    env.call('uac_call.xml', '12345', caller='13800000006',
        extra=['-d', '200'])
    time.sleep(1.5)
    adapter.stop()
    listener.close()
    assert adapter.stats['malformed'] >= 2
    kinds = {}
    for event in seen:
        kinds.setdefault(event.call_id, set()).add(event.kind)
    mine = {c: k for c, k in kinds.items()
        if k >= {'offered', 'answered', 'hangup'}}
    # the 3 calls of this test, complete, whatever was replayed
    calls = env.calls()
    for call in calls[-3:]:
        assert call['call_id'] in mine, (call, kinds)


def test_presence_routing(telephony):
    """Kamailio routes by the agents' presence pushed by the adapter: an
    away agent's phone is not rung, an available one is; a seat with a call
    in progress gets no second call; with no seat left the caller gets 480
    and the call is recorded as not connected."""
    env = telephony
    env.wait_presence('8005', 'available')
    env.wait_presence('8006', 'available')

    def sequential(count, caller):
        before = len(env.calls())
        for i in range(count):
            env.call('uac_call.xml', '12344', caller=caller,
                extra=['-d', '200'])
            wait_for(lambda: env.ended(before + i + 1), message='call ended')
            wait_for(lambda: 'busy' not in {env.seat_presence('8005'),
                    env.seat_presence('8006')}, message='seats free again')
        return env.calls()[before:]

    # agent_a away (the button, as agent_a): only 8006 rings
    assert env.set_presence('agent_a', 'away') == '8005'
    env.wait_presence('8005', 'away')
    a_before, b_before = len(env.invites('pres_a')), len(env.invites('pres_b'))
    calls = sequential(3, '13800000011')
    assert [(c['seat'], c['agent'], c['outcome']) for c in calls] == [
        ('8006', 'agent_b', 'answered')] * 3, calls
    assert len(env.invites('pres_a')) == a_before  # never rung
    assert len(env.invites('pres_b')) == b_before + 3

    # agent_a back, agent_b away: now only 8005 rings
    env.set_presence('agent_a', 'available')
    env.set_presence('agent_b', 'away')
    env.wait_presence('8005', 'available')
    env.wait_presence('8006', 'away')
    calls = sequential(2, '13800000012')
    assert [(c['seat'], c['agent'], c['outcome']) for c in calls] == [
        ('8005', 'agent_a', 'answered')] * 2, calls
    assert len(env.invites('pres_a')) == a_before + 2
    assert len(env.invites('pres_b')) == b_before + 3
    invite = env.invites('pres_a')[-1]
    assert invite.startswith('INVITE sip:12344@'), invite

    # a call in progress on the only available seat: the next caller gets
    # 480 at once (no second call on a busy seat), the first one is served
    before = len(env.calls())
    first = env.call('uac_call.xml', '12344', caller='13800000013',
        extra=['-d', '2500'], wait=False)
    wait_for(lambda: any(c['state'] in {'ringing', 'talking'}
            for c in env.calls()[before:]), message='first call ringing')
    env.call('uac_fail.xml', '12344', caller='13800000014')
    assert first.wait(60) == 0
    calls = wait_for(lambda: env.ended(before + 2), message='2 calls')[
        before:]
    by_caller = {c['call_id']: c for c in calls}
    outcomes = sorted((c['outcome'], c['failure_code'], c['seat'])
        for c in by_caller.values())
    assert outcomes == [('answered', None, '8005'), ('failed', 480, None)], \
        calls
    assert len(env.invites('pres_a')) == a_before + 3
    env.wait_presence('8005', 'available')

    # everybody away: no seat, 480, not connected; nobody rung
    env.set_presence('agent_a', 'away')
    env.wait_presence('8005', 'away')
    before = len(env.calls())
    env.call('uac_fail.xml', '12344', caller='13800000015')
    call, = wait_for(lambda: env.ended(before + 1), message='no seat')[
        before:]
    assert (call['outcome'], call['failure_code'], call['queue'],
        call['seat']) == ('failed', 480, 'presq', None), call
    assert len(env.invites('pres_a')) == a_before + 3
    assert len(env.invites('pres_b')) == b_before + 3
    env.set_presence('agent_a', 'available')
    env.set_presence('agent_b', 'available')


def test_click_to_dial(telephony):
    """The agent's click on 拨打 (the older person's dial button, as the
    agent) → call.dial + NOTIFY → the adapter → Kamailio's REFER to the
    seat phone → the phone calls the number through the proxy → the
    gateway rings the older person's number; the outbound call is recorded
    with the older person popped."""
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    env = telephony
    before = len(env.calls())
    gateway_before = len(env.invites('gateway'))
    with env.transaction() as transaction:
        pool = Pool()
        user, = pool.get('res.user').search([('login', '=', 'agent_d')])
        Elder = pool.get('elder.elder')
        elder, = Elder.search([('name', '=', '王秀英')])
        with Transaction().set_user(user.id), \
                Transaction().set_context(_check_access=True):
            Elder.dial([Elder(elder.id)])
        transaction.commit()
    with env.transaction():
        dial, = Pool().get('call.dial').search([])
        dial_id = dial.id
    calls = wait_for(lambda: env.ended(before + 1), message='outbound call')
    call, = calls[before:]
    assert call['call_id'] == f'dial-{dial_id}@127.0.0.1', call
    assert (call['direction'], call['callee'], call['seat'], call['agent'],
        call['outcome']) == ('outbound', ELDER_PHONE, '8004', 'agent_d',
        'answered'), call
    assert call['elder'] == '王秀英' and call['caller_kind'] == 'elder'
    with env.transaction():
        dial = Pool().get('call.dial')(dial_id)
        assert (dial.state, dial.target, dial.seat.code) == (
            'sent', ELDER_PHONE, '8004')
    # the seat phone got the REFER; the gateway was asked for the number
    refers = re.findall(r'message received \[\d+\] bytes :\s+REFER (\S+)',
        (env.dir / 'phone-refer.msg').read_text())
    assert refers and refers[-1].startswith('sip:8004@'), refers
    invites = env.invites('gateway')[gateway_before:]
    assert len(invites) == 1, invites
    assert invites[0].startswith(f'INVITE sip:{ELDER_PHONE}@'), invites

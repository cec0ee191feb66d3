# This file is part of the eldercare platform. See LICENSE.
"Helpers of the elder_callcenter tests."
import datetime as dt

from trytond.modules.elder_base.tests.test_access import create_user
from trytond.modules.elder_base.tests.tools import region
from trytond.pool import Pool

T0 = dt.datetime(2026, 3, 2, 9, 0, 0)  # naive UTC


def setup_center(region_code='150100', seat_code='8001', login='agent1',
        queue_code='hotline', number='12349', subcenter_code='HH'):
    """A sub-center of region_code with a hotline queue, a seat and an
    agent user (group_agent, scope region_code) at the seat, available."""
    pool = Pool()
    SubCenter = pool.get('call.subcenter')
    Queue = pool.get('call.queue')
    Seat = pool.get('call.seat')
    Agent = pool.get('call.agent')
    subcenter, = SubCenter.create([{'name': '12349 %s' % region_code,
                'code': subcenter_code, 'region': region(region_code).id}])
    queue, = Queue.create([{'name': '12349', 'code': queue_code,
                'number': number, 'subcenter': subcenter.id}])
    seat, = Seat.create([{'code': seat_code, 'subcenter': subcenter.id,
                'sip_uri': 'sip:%s@127.0.0.1:5071' % seat_code,
                'queues': [('add', [queue.id])]}])
    user = create_user(login, 'elder_base.group_agent',
        elder_region=region(region_code).id)
    agent, = Agent.create([{'user': user.id, 'subcenter': subcenter.id,
                'seat': seat.id}])
    Agent.go_available([agent])
    return {'subcenter': subcenter, 'queue': queue, 'seat': seat,
        'agent': agent, 'user': user}


def call_events(call_id, caller, seat='8001', queue='hotline',
        outcome='answered', start=T0, source='kamailio', callee='12349'):
    "The events of one call as a CTI adapter emits them"
    t = start.replace(tzinfo=dt.timezone.utc).timestamp()
    base = {'source': source, 'call_id': call_id, 'direction': 'inbound',
        'caller': caller, 'callee': callee, 'seat': seat, 'queue': queue,
        'code': None, 'reason': '', 'target': '', 'final': True,
        'recording': ''}
    events = [dict(base, kind='offered', time=t), dict(base, kind='ringing',
            time=t + 1)]
    if outcome == 'answered':
        events += [dict(base, kind='answered', time=t + 5),
            dict(base, kind='hangup', time=t + 65, reason='caller')]
    elif outcome == 'busy':
        events = events[:1] + [dict(base, kind='failed', time=t + 1,
                code=486, reason='busy')]
    elif outcome == 'no_answer':
        events += [dict(base, kind='failed', time=t + 30, code=408,
                reason='no_answer')]
    elif outcome == 'abandoned':
        events += [dict(base, kind='failed', time=t + 8, code=487,
                reason='caller_cancel')]
    for i, event in enumerate(events):
        event['event_id'] = '%s:%s' % (call_id, i)
    return events

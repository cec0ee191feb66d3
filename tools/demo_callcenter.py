"""Demo call center for tools/demo.py: the 呼和浩特市 12349 center with a
hotline queue (12349), two seats whose phones are sipp on this machine
(sip:8001@127.0.0.1:5071 and sip:8002@127.0.0.1:5072), the `agent` demo
user at seat 8001 and available, and one older person of 新城区 with a
known phone number, so that against `./elder.sh run` (Kamailio on
127.0.0.1:5070)

    sipp -sf deploy/kamailio/sipp/uas_answer.xml -i 127.0.0.1 -p 5071 -d 3000 &
    sipp -sf deploy/kamailio/sipp/uac_call.xml -s 12349 \\
        -key caller 13904710001 -d 5000 -m 1 -i 127.0.0.1 -p 5081 127.0.0.1:5070

rings the agent's seat and pops 呼叫中心 → 来电记录 for the older person
(the call's caller, in the agent's notifications), and the KPI views
count the call. Open alarms of the demo devices enter 告警处置队列.

Routing follows the agents' presence: calls to 12349 ring seat 8001 only
while `agent` is 空闲 (available) and not on a call; after a call the agent
is in 话后处理 (wrap-up) for 30 s; 离开 (away) stops the calls (the caller
gets 480). Seat 8002 has no agent, so it is never rung; give it one to
try two seats."""
import sys

PHONE = '13904710001'  # fictional, valid to the numbering plan
SEATS = [('8001', 5071), ('8002', 5072)]


def log(message):
    print(f'[demo] {message}', file=sys.stderr, flush=True)


def load(pool, seed=2026):
    "Create the demo call center in the caller's transaction (as root)"
    SubCenter = pool.get('call.subcenter')
    Queue = pool.get('call.queue')
    Seat = pool.get('call.seat')
    Agent = pool.get('call.agent')
    Region = pool.get('elder.region')
    Elder = pool.get('elder.elder')
    User = pool.get('res.user')
    Handling = pool.get('call.alarm.handling')
    if SubCenter.search([], limit=1):
        log('call center already present: nothing to do')
        return {}
    hohhot, = Region.search([('code', '=', '150100')])
    xincheng, = Region.search([('code', '=', '150102')])
    center, = SubCenter.create([{'name': '呼和浩特市12349呼叫中心',
                'code': 'HH12349', 'region': hohhot.id}])
    hotline, = Queue.create([{'name': '12349热线', 'code': 'hotline',
                'number': '12349', 'kind': 'hotline',
                'subcenter': center.id}])
    seats = Seat.create([{'code': code, 'name': '坐席%s' % code,
                'subcenter': center.id,
                'sip_uri': 'sip:%s@127.0.0.1:%s' % (code, port),
                'queues': [('add', [hotline.id])]} for code, port in SEATS])
    agents = User.search([('login', '=', 'agent')], limit=1)
    if agents:
        agent, = Agent.create([{'user': agents[0].id,
                    'subcenter': center.id, 'seat': seats[0].id}])
        Agent.go_available([agent])
    elders = Elder.search([('state', '=', 'active'),
            ('region', 'child_of', [xincheng.id], 'parent')],
        order=[('id', 'ASC')], limit=1)
    if elders:
        elders[0].phone = PHONE
        elders[0].save()
        log(f'call-center demo caller: {elders[0].name} {PHONE}')
    Handling.sync_open_alarms()
    return {'phone': PHONE}

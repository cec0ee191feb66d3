# This file is part of the eldercare platform. See LICENSE.
"""Calls (call.call) and their events (call.event), written by the CTI
adapters through ``Call.ingest`` (idempotent on source + event id)."""
import datetime as dt
import json
import logging
from collections import defaultdict

from sql import Conflict, For, Null

from trytond.bus import notify
from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.elder_base.elder import encrypted
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC
from trytond.transaction import Transaction, without_check_access

from . import screen_pop
from .cti.base import KINDS
from .exceptions import CallCenterError

logger = logging.getLogger(__name__)

DIRECTIONS = [
    ('inbound', "Inbound"),
    ('outbound', "Outbound"),
    ]
STATES = [
    ('offered', "Offered"),
    ('ringing', "Ringing"),
    ('talking', "Talking"),
    ('ended', "Ended"),
    ]
OUTCOMES = [
    (None, ""),
    ('answered', "Answered"),
    ('abandoned', "Abandoned"),
    ('busy', "Busy"),
    ('no_answer', "No Answer"),
    ('failed', "Failed"),
    ]
SOURCES = [
    ('kamailio', "Kamailio"),
    ('asterisk', "Asterisk"),
    ('freeswitch', "FreeSWITCH"),
    ('manual', "Manual"),
    ]
HANGUP_BY = [
    (None, ""),
    ('caller', "Caller"),
    ('callee', "Callee"),
    ('timeout', "Timeout"),
    ]
ANOMALIES = [
    (None, ""),
    ('unknown_seat', "Unknown seat"),
    ('unknown_queue', "Unknown queue"),
    ]
EVENT_KINDS = [(k, k) for k in KINDS]


def from_timestamp(value):
    "UNIX seconds -> naive UTC datetime (how Tryton stores timestamps)"
    return dt.datetime.fromtimestamp(float(value), dt.timezone.utc).replace(
        tzinfo=None)


class Call(EncryptedMixin, ModelSQL, ModelView):
    "Call"
    __name__ = 'call.call'
    # The numbers are phone numbers of people: encrypted at rest, masked
    # on screen, searchable by exact value (blind index) like elder_base's.
    _encrypted_fields = {'caller': 'phone', 'callee': 'phone'}
    _encrypted_indexed = {'caller': 'phone', 'callee': 'phone'}
    _sensitivity = {
        'caller': 'personal', 'callee': 'personal', 'elder': 'personal',
        'contact': 'personal', 'practitioner': 'personal',
        'pop_address': 'personal', 'pop_categories': 'sensitive',
        'pop_living_situation': 'personal', 'pop_contacts': 'personal',
        'pop_devices': 'personal', 'pop_alarms': 'personal',
        'pop_orders': 'personal', 'notes': 'personal',
        'recording': 'personal',
        }

    source = fields.Selection(SOURCES, "Source", required=True, readonly=True)
    call_id = fields.Char("Call ID", required=True, readonly=True,
        help="The switch's identifier of the call (SIP Call-ID, Asterisk "
        "linkedid, FreeSWITCH UUID).")
    direction = fields.Selection(DIRECTIONS, "Direction", required=True,
        readonly=True)
    caller = encrypted(fields.Char("Caller", readonly=True), index=True)
    caller_enc = fields.Char("Caller (Encrypted)", readonly=True)
    caller_bidx = fields.Char("Caller (Index)", readonly=True)
    callee = encrypted(fields.Char("Callee", readonly=True), index=True)
    callee_enc = fields.Char("Callee (Encrypted)", readonly=True)
    callee_bidx = fields.Char("Callee (Index)", readonly=True)
    queue = fields.Many2One('call.queue', "Queue", readonly=True,
        ondelete='RESTRICT')
    seat = fields.Many2One('call.seat', "Seat", readonly=True,
        ondelete='RESTRICT')
    seat_code = fields.Char("Seat Reported", readonly=True,
        help="The seat as the switch reported it.")
    agent = fields.Many2One('call.agent', "Agent", readonly=True,
        ondelete='RESTRICT')
    subcenter = fields.Many2One('call.subcenter', "Sub-center",
        readonly=True, ondelete='RESTRICT')
    region = fields.Many2One('elder.region', "Region", readonly=True,
        ondelete='RESTRICT')
    offered_at = fields.Timestamp("Offered At", readonly=True)
    ring_at = fields.Timestamp("Ringing At", readonly=True)
    answer_at = fields.Timestamp("Answered At", readonly=True)
    end_at = fields.Timestamp("Ended At", readonly=True)
    wait_seconds = fields.Float("Wait (s)", readonly=True,
        help="From offered to answered, or to the end when not answered.")
    talk_seconds = fields.Float("Talk (s)", readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    outcome = fields.Selection(OUTCOMES, "Outcome", readonly=True)
    failure_code = fields.Integer("Failure Code", readonly=True)
    hangup_by = fields.Selection(HANGUP_BY, "Hung Up By", readonly=True)
    attempts = fields.Integer("Seats Tried", readonly=True)
    transferred_to = fields.Char("Transferred To", readonly=True)
    recording = fields.Char("Recording", readonly=True,
        help="Reference of the recording on the recorder.")
    anomaly = fields.Selection(ANOMALIES, "Anomaly", readonly=True)
    notes = fields.Text("Notes")
    events = fields.One2Many('call.event', 'call', "Events", readonly=True)

    # screen pop
    caller_kind = fields.Selection(screen_pop.CALLER_KINDS, "Caller Is",
        readonly=True)
    elder = fields.Many2One('elder.elder', "Older Person",
        ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'ended'},
        help="Matched from the caller's number; the agent may correct it.")
    contact = fields.Many2One('elder.contact', "Family / Contact",
        readonly=True, ondelete='SET NULL')
    practitioner = fields.Many2One('elder.practitioner', "Practitioner",
        readonly=True, ondelete='SET NULL')
    provider = fields.Many2One('elder.provider', "Provider",
        readonly=True, ondelete='SET NULL')
    pop_address = fields.Function(fields.Char("Address"), 'get_pop')
    pop_categories = fields.Function(fields.Char("Categories"), 'get_pop')
    pop_living_situation = fields.Function(
        fields.Char("Living Situation"), 'get_pop')
    pop_contacts = fields.Function(fields.Many2Many(
            'elder.contact', None, None, "Contacts"), 'get_pop')
    pop_devices = fields.Function(fields.Many2Many(
            'device.device', None, None, "Devices"), 'get_pop')
    pop_alarms = fields.Function(fields.Many2Many(
            'device.alarm', None, None, "Open Alarms"), 'get_pop')
    pop_orders = fields.Function(fields.Many2Many(
            'service.order', None, None, "Recent Orders"), 'get_pop')
    answered = fields.Function(fields.Integer("Answered"), 'get_counters')
    counter = fields.Function(fields.Integer("Calls"), 'get_counters')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('call_uniq', Unique(t, t.source, t.call_id),
                'elder_callcenter.msg_call_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.offered_at, Index.Range())),
                Index(t, (t.region, Index.Range())),
                Index(t, (t.agent, Index.Range()),
                    (t.offered_at, Index.Range())),
                Index(t, (t.queue, Index.Range()),
                    (t.offered_at, Index.Range())),
                Index(t, (t.elder, Index.Range())),
                Index(t, (t.caller_bidx, Index.Equality())),
                })
        cls._order = [('offered_at', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'open_elder': {
                    'invisible': ~Eval('elder'),
                    'depends': ['elder'],
                    },
                'new_ticket': {},
                })
        cls.__rpc__.update({
                'click_to_dial': RPC(readonly=False),
                })

    @staticmethod
    def default_state():
        return 'offered'

    @staticmethod
    def default_source():
        return 'manual'

    @staticmethod
    def default_direction():
        return 'inbound'

    @staticmethod
    def default_caller_kind():
        return 'unknown'

    @staticmethod
    def default_attempts():
        return 0

    @classmethod
    def encrypted_normalize(cls, name, value):
        if isinstance(value, str):
            value = value.strip()
            value = screen_pop.normalize(value) or value
        return value

    def get_rec_name(self, name):
        directions = dict(self.fields_get(['direction'])['direction'][
                'selection'])
        who = self.elder.name if self.elder else (
            self.contact.name if self.contact else '')
        when = self.offered_at.strftime('%Y-%m-%d %H:%M') \
            if self.offered_at else ''
        return ' '.join(filter(None, [
                    when, directions.get(self.direction, ''), who]))

    def get_counters(self, name):
        if name == 'answered':
            return 1 if self.outcome == 'answered' else 0
        return 1

    @classmethod
    def get_pop(cls, calls, names):
        pool = Pool()
        Elder = pool.get('elder.elder')
        Device = pool.get('device.device')
        Alarm = pool.get('device.alarm')
        Order = pool.get('service.order')
        result = {n: {} for n in names}
        living = dict(Elder.fields_get(['living_situation'])[
                'living_situation']['selection'])
        for call in calls:
            elder = call.elder
            for name in names:
                value = [] if name in {'pop_contacts', 'pop_devices',
                    'pop_alarms', 'pop_orders'} else None
                if elder:
                    if name == 'pop_address':
                        value = ' '.join(filter(None, [
                                    elder.region.rec_name if elder.region
                                    else '', elder.address]))
                    elif name == 'pop_categories':
                        value = '、'.join(c.rec_name for c in elder.categories)
                    elif name == 'pop_living_situation':
                        value = living.get(elder.living_situation)
                    elif name == 'pop_contacts':
                        value = [c.id for c in elder.contacts]
                    elif name == 'pop_devices':
                        value = [d.id for d in Device.search([
                                    ('elder', '=', elder.id),
                                    ('state', '!=', 'retired')])]
                    elif name == 'pop_alarms':
                        value = [a.id for a in Alarm.search([
                                    ('elder', '=', elder.id),
                                    ('state', '!=', 'closed')])]
                    elif name == 'pop_orders':
                        value = [o.id for o in Order.search([
                                    ('elder', '=', elder.id)],
                                order=[('requested_date', 'DESC'),
                                    ('id', 'DESC')], limit=5)]
                result[name][call.id] = value
        return result

    @classmethod
    @ModelView.button_action('elder_base.act_elder')
    def open_elder(cls, calls):
        return {'res_id': [c.elder.id for c in calls if c.elder][:1],
            'views': list(reversed(
                    Pool().get('ir.action.act_window').get(
                        'elder_base.act_elder')['views']))}

    @classmethod
    @ModelView.button_action('elder_callcenter.act_ticket_from_call')
    def new_ticket(cls, calls):
        pass

    # --- ingestion ---------------------------------------------------------

    @classmethod
    @without_check_access
    def ingest(cls, events):
        """Store CTI events (dicts of cti.base.CallEvent) and apply the new
        ones to their calls, in the caller's transaction.

        Returns one status per event: 'new' or 'duplicate'. An event that
        was stored before (same source and event id: a replay after a
        reconnection) changes nothing.

        The work is per batch, not per event: one INSERT … ON CONFLICT for
        the calls, one SELECT … FOR UPDATE reading and locking them, one
        INSERT … ON CONFLICT DO NOTHING of the events (linked to their call),
        one screen-pop search per kind of party for all the numbers, one
        write of all the calls and one presence change per state."""
        pool = Pool()
        Event = pool.get('call.event')
        transaction = Transaction()
        cursor = transaction.connection.cursor()
        table = Event.__table__()
        now = dt.datetime.utcnow()
        rows = cls._get_calls({(e['source'], e['call_id']) for e in events})
        values = []
        for event in events:
            values.append([event['source'], str(event['event_id']),
                    event['call_id'],
                    rows[event['source'], event['call_id']]['id'],
                    event['kind'], from_timestamp(event['time']),
                    json.dumps(event, ensure_ascii=False, default=str),
                    0, now])
        inserted = set()
        for start in range(0, len(values), 500):
            cursor.execute(*table.insert(
                    [table.source, table.event_id, table.call_id, table.call,
                        table.kind, table.time, table.data, table.create_uid,
                        table.create_date],
                    values[start:start + 500],
                    on_conflict=Conflict(table, indexed_columns=[
                            table.source, table.event_id]),
                    returning=[table.source, table.event_id]))
            inserted.update((source, event_id) for source, event_id in cursor)
        statuses, by_call = [], defaultdict(list)
        for event in events:
            key = (event['source'], str(event['event_id']))
            if key in inserted:
                inserted.discard(key)
                statuses.append('new')
                by_call[event['source'], event['call_id']].append(event)
            else:
                statuses.append('duplicate')
        if by_call:
            cls._apply(by_call, rows)
        return statuses

    _call_columns = ['direction', 'offered_at', 'ring_at', 'answer_at',
        'end_at', 'state', 'outcome', 'attempts', 'caller_kind', 'seat',
        'agent', 'region', 'subcenter']

    @classmethod
    def _get_calls(cls, keys):
        """{(source, call id): row} of the existing or new calls, read and
        row-locked in one query (the row: id, the _call_columns and
        has_caller)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        now = dt.datetime.utcnow()
        keys = sorted(keys)
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            cursor.execute(*table.insert(
                    [table.source, table.call_id, table.direction,
                        table.state, table.caller_kind, table.attempts,
                        table.create_uid, table.create_date],
                    [[s, c, 'inbound', 'offered', 'unknown', 0, 0, now]
                        for s, c in chunk],
                    on_conflict=Conflict(table, indexed_columns=[
                            table.source, table.call_id])))
        rows = {}
        names = ['id', 'source', 'call_id'] + cls._call_columns
        for start in range(0, len(keys), 500):
            chunk = keys[start:start + 500]
            for source in sorted({s for s, _ in chunk}):
                ids = [c for s, c in chunk if s == source]
                # waits for (does not fail on) another writer of these calls
                cursor.execute(*table.select(
                        *[getattr(table, n) for n in names],
                        table.caller_enc != Null,
                        where=(table.source == source)
                        & table.call_id.in_(ids),
                        order_by=[table.id], for_=For('UPDATE')))
                for record in cursor:
                    row = dict(zip(names, record[:-1]))
                    row['has_caller'] = bool(record[-1])
                    rows[row['source'], row['call_id']] = row
        return rows

    @classmethod
    def _apply(cls, by_call, rows):
        pool = Pool()
        Queue = pool.get('call.queue')
        Seat = pool.get('call.seat')
        Agent = pool.get('call.agent')
        events = [e for es in by_call.values() for e in es]
        queue_codes = {e['queue'] for e in events if e.get('queue')}
        seat_codes = {e['seat'] for e in events if e.get('seat')}
        queues = {q.code: q for q in Queue.search([
                    ('code', 'in', list(queue_codes))])} if queue_codes else {}
        seats = {s.code: s for s in Seat.search([
                    ('code', 'in', list(seat_codes))])} if seat_codes else {}
        agents = {a.seat.id: a for a in Agent.search([
                    ('seat', 'in', [s.id for s in seats.values()])])} \
            if seats else {}
        known_agents = {a.id: a for a in agents.values()}
        other = {r['agent'] for r in rows.values()
            if r['agent'] and r['agent'] not in known_agents}
        known_agents.update((a.id, a) for a in Agent.browse(list(other)))
        matches = screen_pop.match_numbers([cls._party_number(e)
                for e in events if e['kind'] == 'offered'])
        to_pop, busy, wrap = [], set(), set()
        writes = []
        for key, call_events in by_call.items():
            row = rows[key]
            values = {}
            call_events.sort(key=lambda e: (e['time'], str(e['event_id'])))
            current = {f: row[f] for f in [
                    'offered_at', 'ring_at', 'answer_at', 'end_at', 'state',
                    'outcome', 'attempts', 'caller_kind']}
            current['attempts'] = current['attempts'] or 0
            current['seat'] = row['seat']
            current['agent'] = known_agents.get(row['agent'])
            for event in call_events:
                cls._apply_event(row, event, current, values, queues,
                    seats, agents, to_pop, busy, wrap, matches)
            cls._finish(row, current, values)
            if values:
                writes.extend([[cls(row['id'])], values])
        if writes:
            cls.write(*writes)
        if busy:
            Agent.set_presence(list(busy), 'busy', 'call')
        if wrap:
            # no wrap-up time: available again as soon as the call ends
            Agent.set_presence([a for a in wrap if a.wrap_up_seconds > 0],
                'wrap_up', 'call')
            Agent.set_presence([a for a in wrap if a.wrap_up_seconds <= 0],
                'available', 'call')
        cls.screen_pop(cls.browse(to_pop))

    @staticmethod
    def _party_number(event):
        "The other party's number: the caller's, the callee's if outbound"
        if (event.get('direction') or 'inbound') == 'inbound':
            return event.get('caller')
        return event.get('callee')

    @classmethod
    def _apply_event(cls, row, event, current, values, queues, seats,
            agents, to_pop, busy, wrap, matches):
        kind = event['kind']
        time = from_timestamp(event['time'])
        ended = current['state'] == 'ended'
        if kind == 'offered':
            if not current['offered_at'] or time < current['offered_at']:
                current['offered_at'] = values['offered_at'] = time
            if not row['has_caller'] and not values.get('caller'):
                values['direction'] = event.get('direction') or 'inbound'
                values['caller'] = event.get('caller') or None
                values['callee'] = event.get('callee') or None
                cls._match(matches.get(
                        screen_pop.normalize(cls._party_number(event))),
                    values)
            if event.get('queue'):
                queue = queues.get(event['queue'])
                if queue:
                    values['queue'] = queue.id
                    values['subcenter'] = queue.subcenter.id
                else:
                    values['anomaly'] = 'unknown_queue'
            if event.get('seat'):
                cls._set_seat(event['seat'], current, values, seats, agents)
            current['attempts'] += 1
            values['attempts'] = current['attempts']
            if not ended and current['state'] == 'offered':
                values['state'] = 'offered'
        elif kind == 'ringing':
            if event.get('seat'):
                cls._set_seat(event['seat'], current, values, seats, agents)
            if not current['ring_at']:
                current['ring_at'] = values['ring_at'] = time
            if not ended and current['state'] == 'offered':
                current['state'] = values['state'] = 'ringing'
                to_pop.append(row['id'])
        elif kind == 'answered':
            if event.get('seat'):
                cls._set_seat(event['seat'], current, values, seats, agents)
            if not current['answer_at'] or time < current['answer_at']:
                current['answer_at'] = values['answer_at'] = time
            if not ended:
                current['state'] = values['state'] = 'talking'
                if current['agent']:
                    busy.add(current['agent'])
            if row['id'] not in to_pop and not current['ring_at']:
                to_pop.append(row['id'])
        elif kind == 'transferred':
            values['transferred_to'] = event.get('target') or None
        elif kind == 'hangup':
            if not current['end_at'] or time > current['end_at']:
                current['end_at'] = values['end_at'] = time
            by = event.get('reason')
            values['hangup_by'] = by if by in dict(HANGUP_BY) else None
            current['state'] = values['state'] = 'ended'
            if current['agent'] and current['answer_at']:
                wrap.add(current['agent'])
                busy.discard(current['agent'])
        elif kind == 'failed':
            if event.get('final', True):
                if not current['end_at']:
                    current['end_at'] = values['end_at'] = time
                values['failure_code'] = event.get('code')
                current['state'] = values['state'] = 'ended'
                reason = event.get('reason') or ''
                if not current['answer_at']:
                    current['outcome'] = {
                        'busy': 'busy', 'no_answer': 'no_answer',
                        'caller_cancel': 'abandoned',
                        }.get(reason, 'failed')
        if event.get('recording'):
            values['recording'] = event['recording']

    @classmethod
    def _set_seat(cls, code, current, values, seats, agents):
        seat = seats.get(code)
        if seat:
            current['seat'] = seat
            values['seat'] = seat.id
            values['seat_code'] = code
            values.setdefault('subcenter', seat.subcenter.id)
            agent = agents.get(seat.id)
            current['agent'] = agent
            values['agent'] = agent.id if agent else None
            if values.get('anomaly') == 'unknown_seat':
                values['anomaly'] = None
        else:
            # The call is kept: the seat is recorded as reported
            values['seat_code'] = code
            values['anomaly'] = 'unknown_seat'
            logger.warning('call event with unknown seat %r', code)

    @classmethod
    def _match(cls, match, values):
        "Screen pop data: who is the other party (screen_pop.match_numbers)"
        match = match or screen_pop.NO_MATCH
        values['caller_kind'] = match['kind']
        for name in ['elder', 'contact', 'practitioner', 'provider']:
            values[name] = match[name].id if match[name] else None
        if match['elder']:
            values['region'] = match['elder'].region.id

    @classmethod
    def _finish(cls, row, current, values):
        "Durations, outcome and region once the facts are known"
        offered = current['offered_at']
        answer, end = current['answer_at'], current['end_at']
        if answer:
            current['outcome'] = 'answered'
        elif current['state'] == 'ended' and not current['outcome']:
            current['outcome'] = (
                'abandoned' if (values.get('direction') or row['direction'])
                == 'inbound' else 'no_answer')
        if current['state'] == 'ended':
            values['outcome'] = current['outcome']
        if offered and (answer or end):
            values['wait_seconds'] = max(
                ((answer or end) - offered).total_seconds(), 0)
        if answer and end:
            values['talk_seconds'] = max((end - answer).total_seconds(), 0)
        if not row['region'] and not values.get('region'):
            subcenter = values.get('subcenter') or row['subcenter']
            if subcenter:
                SubCenter = Pool().get('call.subcenter')
                values['region'] = SubCenter(subcenter).region.id

    @classmethod
    def screen_pop(cls, calls):
        """Tell the agent of each ringing call who is calling: a bus pop-up
        in the agent's open clients and a notification that opens the
        call (its form shows the screen pop), in the agent's language."""
        pool = Pool()
        Notification = pool.get('res.notification')
        Config = pool.get('ir.configuration')
        default_language = Config.get_language()
        by_language = defaultdict(list)
        for call in calls:
            if call.agent:
                user = call.agent.user
                language = (user.language.code if user.language
                    else default_language)
                by_language[language].append(call)
        values = []
        for language, language_calls in by_language.items():
            with Transaction().set_context(language=language):
                kinds = dict(cls.fields_get(['caller_kind'])['caller_kind'][
                        'selection'])
                for call in cls.browse(language_calls):
                    title = cls._pop_title(call, kinds)
                    body = call.pop_address if call.elder else ''
                    user = call.agent.user.id
                    values.append({'user': user, 'label': title,
                            'description': body or '',
                            'icon': 'tryton-info', 'model': cls.__name__,
                            'records': json.dumps([call.id])})
                    notify(title, body or None, priority=1, user=user)
        if values:
            Notification.create(values)

    @classmethod
    def _pop_title(cls, call, kinds):
        who = (call.elder or call.contact or call.practitioner
            or call.provider)
        if call.caller_kind == 'contact' and call.elder:
            who_text = gettext('elder_callcenter.msg_pop_contact_of',
                contact=call.contact.name, elder=call.elder.name)
        else:
            who_text = who.rec_name if who else gettext(
                'elder_callcenter.msg_pop_unknown')
        return gettext('elder_callcenter.msg_pop_title',
            who=who_text, kind=kinds.get(call.caller_kind, ''))

    # --- click to dial -------------------------------------------------------

    @classmethod
    def click_to_dial(cls, number, elder=None, reference=None):
        """Ask the CTI adapter to ring the current agent's seat and connect
        it to number; returns the id of the dial request."""
        pool = Pool()
        Dial = pool.get('call.dial')
        Agent = pool.get('call.agent')
        agent = Agent.for_user()
        if not agent or not agent.seat:
            raise CallCenterError(gettext('elder_callcenter.msg_no_seat'))
        target = screen_pop.normalize(number)
        if not target:
            raise CallCenterError(gettext(
                    'elder_callcenter.msg_invalid_number', number=number))
        with Transaction().set_context(_check_access=False):
            dial, = Dial.create([{
                        'agent': agent.id, 'seat': agent.seat.id,
                        'target': target, 'elder': elder,
                        'reference': reference}])
        return dial.id


class Event(ModelSQL, ModelView):
    "Call Event"
    __name__ = 'call.event'
    source = fields.Char("Source", required=True, readonly=True)
    event_id = fields.Char("Event ID", required=True, readonly=True)
    call_id = fields.Char("Call ID", required=True, readonly=True)
    call = fields.Many2One('call.call', "Call", readonly=True,
        ondelete='CASCADE')
    kind = fields.Selection(EVENT_KINDS, "Kind", readonly=True)
    time = fields.Timestamp("Time", readonly=True)
    data = fields.Text("Data", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('event_uniq', Unique(t, t.source, t.event_id),
                'elder_callcenter.msg_event_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.call, Index.Range())))
        cls._order = [('time', 'ASC'), ('id', 'ASC')]


class CtiPosition(ModelSQL):
    "CTI Adapter Position"
    __name__ = 'call.cti.position'
    source = fields.Char("Source", required=True)
    boot = fields.Char("Switch Start")
    sequence = fields.Integer("Sequence")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('source_uniq', Unique(t, t.source),
                'elder_callcenter.msg_event_unique'),
            ]

    @classmethod
    def get(cls, source):
        records = cls.search([('source', '=', source)], limit=1)
        if records and records[0].boot:
            return (int(records[0].boot), int(records[0].sequence or 0))
        return None

    @classmethod
    def set(cls, source, position):
        records = cls.search([('source', '=', source)], limit=1)
        values = {'boot': str(position[0]), 'sequence': position[1]}
        if records:
            cls.write(records, values)
        else:
            cls.create([{'source': source, **values}])

# This file is part of the eldercare platform. See LICENSE.
"""Sub-centers, queues, seats and agents with their presence (standard
§5.1.5: a 7x24 call center or the regional 12349 hotline, sub-centers and
remote seats)."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from .exceptions import CallCenterValidationError
from .cti.kamailio import _NUMBER, _URI

PRESENCE = [
    ('offline', "Offline"),
    ('available', "Available"),
    ('busy', "Busy"),
    ('wrap_up', "Wrap-up"),
    ('away', "Away"),
    ]
# NOTIFY channel: an agent's presence or seat changed (the CTI adapter
# LISTENs and pushes the seats' presence into the switch's routing)
PRESENCE_CHANNEL = 'elder_callcenter_presence'
QUEUE_KINDS = [
    ('hotline', "Hotline"),
    ('alarm', "Alarm"),
    ('callback', "Return Visits"),
    ]


def utcnow():
    "Naive UTC now; the context key callcenter_now freezes it (tests)"
    frozen = Transaction().context.get('callcenter_now')
    if frozen:
        return frozen
    return dt.datetime.utcnow().replace(microsecond=0)


class SubCenter(DeactivableMixin, ModelSQL, ModelView):
    "Call Center or Sub-center"
    __name__ = 'call.subcenter'
    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True)
    region = fields.Many2One(
        'elder.region', "Region", required=True, ondelete='RESTRICT',
        help="The region it serves: its calls are seen by the users whose "
        "scope covers it.")
    parent = fields.Many2One(
        'call.subcenter', "Parent Center", ondelete='RESTRICT')
    queues = fields.One2Many('call.queue', 'subcenter', "Queues")
    seats = fields.One2Many('call.seat', 'subcenter', "Seats")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code),
                'elder_callcenter.msg_subcenter_code_unique'),
            ]


class Queue(DeactivableMixin, ModelSQL, ModelView):
    "Call Queue"
    __name__ = 'call.queue'
    name = fields.Char("Name", required=True, translate=True)
    code = fields.Char("Code", required=True,
        help="The queue's name on the switch (letters, digits, - and _).")
    number = fields.Char("Dialled Number",
        help="Calls to this number (e.g. 12349) enter the queue.")
    kind = fields.Selection(QUEUE_KINDS, "Kind", required=True)
    subcenter = fields.Many2One(
        'call.subcenter', "Sub-center", required=True, ondelete='RESTRICT')
    region = fields.Function(
        fields.Many2One('elder.region', "Region"), 'get_region',
        searcher='search_region')
    answer_target = fields.Integer("Answer Target (s)", required=True,
        help="Service level: calls answered within these seconds.")
    target_rate = fields.Numeric("Connection Rate Target (%)", digits=(5, 2),
        required=True, help="The standard asks 95 % or more.")
    seats = fields.Many2Many('call.queue-call.seat', 'queue', 'seat',
        "Seats")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code),
                'elder_callcenter.msg_queue_code_unique'),
            ('number_uniq', Unique(t, t.number),
                'elder_callcenter.msg_queue_number_unique'),
            ]

    @staticmethod
    def default_kind():
        return 'hotline'

    @staticmethod
    def default_answer_target():
        return 20

    @staticmethod
    def default_target_rate():
        from decimal import Decimal
        return Decimal(95)

    def get_region(self, name):
        return self.subcenter.region.id

    @classmethod
    def search_region(cls, name, clause):
        return [('subcenter.region',) + tuple(clause[1:])]

    @classmethod
    def validate_fields(cls, queues, field_names):
        super().validate_fields(queues, field_names)
        for queue in queues:
            for value in [queue.code, queue.number]:
                if value and not _NUMBER.match(value):
                    raise CallCenterValidationError(gettext(
                            'elder_callcenter.msg_invalid_code',
                            value=value))


class QueueSeat(ModelSQL):
    "Queue - Seat"
    __name__ = 'call.queue-call.seat'
    queue = fields.Many2One(
        'call.queue', "Queue", required=True, ondelete='CASCADE')
    seat = fields.Many2One(
        'call.seat', "Seat", required=True, ondelete='CASCADE')


class Seat(DeactivableMixin, ModelSQL, ModelView):
    "Seat"
    __name__ = 'call.seat'
    code = fields.Char("Extension", required=True,
        help="The seat's extension, as the switch reports it.")
    name = fields.Char("Name")
    subcenter = fields.Many2One(
        'call.subcenter', "Sub-center", required=True, ondelete='RESTRICT')
    region = fields.Function(
        fields.Many2One('elder.region', "Region"), 'get_region',
        searcher='search_region')
    sip_uri = fields.Char("Phone SIP URI",
        help="Where the switch sends the calls of this seat, e.g. "
        "sip:8001@10.0.0.21:5060.")
    remote = fields.Boolean("Remote Seat",
        help="A seat outside the center (an agent working from a "
        "sub-center or from home).")
    queues = fields.Many2Many('call.queue-call.seat', 'seat', 'queue',
        "Queues")
    agent = fields.Function(
        fields.Many2One('call.agent', "Agent"), 'get_agent')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code),
                'elder_callcenter.msg_seat_code_unique'),
            ]

    def get_rec_name(self, name):
        return self.code + (' %s' % self.name if self.name else '')

    @classmethod
    def search_rec_name(cls, name, clause):
        return ['OR', ('code',) + tuple(clause[1:]),
            ('name',) + tuple(clause[1:])]

    def get_region(self, name):
        return self.subcenter.region.id

    @classmethod
    def search_region(cls, name, clause):
        return [('subcenter.region',) + tuple(clause[1:])]

    def get_agent(self, name):
        Agent = Pool().get('call.agent')
        agents = Agent.search([('seat', '=', self.id)], limit=1)
        return agents[0].id if agents else None

    @classmethod
    def validate_fields(cls, seats, field_names):
        super().validate_fields(seats, field_names)
        for seat in seats:
            if not _NUMBER.match(seat.code or ''):
                raise CallCenterValidationError(gettext(
                        'elder_callcenter.msg_invalid_code', value=seat.code))
            if seat.sip_uri and not _URI.match(seat.sip_uri):
                raise CallCenterValidationError(gettext(
                        'elder_callcenter.msg_invalid_sip_uri',
                        value=seat.sip_uri))


class Agent(ModelSQL, ModelView):
    "Agent"
    __name__ = 'call.agent'
    _sensitivity = {'name': 'personal'}
    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='RESTRICT')
    name = fields.Function(fields.Char("Name"), 'get_name',
        searcher='search_rec_name')
    subcenter = fields.Many2One(
        'call.subcenter', "Sub-center", required=True, ondelete='RESTRICT')
    region = fields.Function(
        fields.Many2One('elder.region', "Region"), 'get_region',
        searcher='search_region')
    seat = fields.Many2One(
        'call.seat', "Seat", ondelete='SET NULL',
        domain=[('subcenter', '=', Eval('subcenter', -1))],
        help="The seat the agent works at now.")
    state = fields.Selection(PRESENCE, "Presence", required=True,
        readonly=True)
    state_since = fields.Timestamp("Since", readonly=True)
    wrap_up_seconds = fields.Integer("Wrap-up Time (s)", required=True,
        help="After a call the agent stays in wrap-up this long.")
    presence_log = fields.One2Many(
        'call.agent.presence', 'agent', "Presence History", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('user_uniq', Unique(t, t.user),
                'elder_callcenter.msg_agent_user_unique'),
            ('seat_uniq', Unique(t, t.seat),
                'elder_callcenter.msg_agent_seat_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.seat, Index.Equality())))
        cls._buttons.update({
                'go_available': {
                    'invisible': Eval('state') == 'available',
                    'depends': ['state'],
                    },
                'go_away': {
                    'invisible': Eval('state') == 'away',
                    'depends': ['state'],
                    },
                'go_offline': {
                    'invisible': Eval('state') == 'offline',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'offline'

    @staticmethod
    def default_wrap_up_seconds():
        return 30

    def get_name(self, name):
        return self.user.name

    def get_rec_name(self, name):
        return self.user.rec_name

    @classmethod
    def search_rec_name(cls, name, clause):
        return [('user.rec_name',) + tuple(clause[1:])]

    def get_region(self, name):
        return self.subcenter.region.id

    @classmethod
    def search_region(cls, name, clause):
        return [('subcenter.region',) + tuple(clause[1:])]

    @classmethod
    def on_modification(cls, mode, agents, field_names=None):
        super().on_modification(mode, agents, field_names=field_names)
        if mode != 'write' or not field_names or (
                {'state', 'seat'} & set(field_names)):
            transaction = Transaction()
            if transaction.database.has_channel():
                # wakes the CTI adapter up when this transaction commits
                cursor = transaction.connection.cursor()
                cursor.execute('NOTIFY "%s"' % PRESENCE_CHANNEL)

    @classmethod
    def routing_presence(cls):
        """({seat code: presence} of the active seats with a phone, a seat
        without an agent being offline; the time the next wrap-up ends or
        None), what the CTI adapter pushes to the switch"""
        Seat = Pool().get('call.seat')
        seats = Seat.search([('sip_uri', '!=', None)])
        agents = {a.seat.id: a for a in cls.search([
                    ('seat', 'in', [s.id for s in seats])])}
        presence, due = {}, None
        for seat in seats:
            agent = agents.get(seat.id)
            presence[seat.code] = agent.state if agent else 'offline'
            if agent and agent.state == 'wrap_up' and agent.state_since:
                end = agent.state_since + dt.timedelta(
                    seconds=agent.wrap_up_seconds or 0)
                due = min(due, end) if due else end
        return presence, due

    @classmethod
    @without_check_access
    def set_presence(cls, agents, state, reason=None):
        "Move agents to a presence state and log it (also used by the CTI)"
        Log = Pool().get('call.agent.presence')
        now = utcnow()
        agents = [a for a in agents if a.state != state]
        if not agents:
            return
        open_logs = Log.search([
                ('agent', 'in', [a.id for a in agents]),
                ('end', '=', None)])
        if open_logs:
            Log.write(open_logs, {'end': now})
        Log.create([{'agent': a.id, 'state': state, 'start': now,
                    'reason': reason} for a in agents])
        cls.write(agents, {'state': state, 'state_since': now})

    @classmethod
    @ModelView.button
    def go_available(cls, agents):
        cls.set_presence(agents, 'available', 'manual')

    @classmethod
    @ModelView.button
    def go_away(cls, agents):
        cls.set_presence(agents, 'away', 'manual')

    @classmethod
    @ModelView.button
    def go_offline(cls, agents):
        cls.set_presence(agents, 'offline', 'manual')

    @classmethod
    def end_wrap_up(cls):
        "Cron: agents whose wrap-up time is over become available again"
        now = utcnow()
        done = [a for a in cls.search([('state', '=', 'wrap_up')])
            if a.state_since and (now - a.state_since).total_seconds()
            >= a.wrap_up_seconds]
        cls.set_presence(done, 'available', 'wrap_up_over')

    @classmethod
    def for_user(cls, user_id=None):
        agents = cls.search([('user', '=',
                    user_id or Transaction().user)], limit=1)
        return agents[0] if agents else None


class PresenceLog(ModelSQL, ModelView):
    "Agent Presence"
    __name__ = 'call.agent.presence'
    agent = fields.Many2One(
        'call.agent', "Agent", required=True, ondelete='CASCADE',
        readonly=True)
    state = fields.Selection(PRESENCE, "Presence", readonly=True)
    start = fields.Timestamp("Start", readonly=True)
    end = fields.Timestamp("End", readonly=True)
    reason = fields.Char("Reason", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('start', 'DESC'), ('id', 'DESC')]

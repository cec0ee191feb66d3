# This file is part of the eldercare platform. See LICENSE.
"""Call-center KPIs (standard §5.1.5: connection rate ≥ 95 %), SQL views
(table_query) over call.call and call.alarm.handling:

- offered, answered, abandoned inbound calls; connection (answer) rate =
  answered / offered; the 95 % line (``target``) for the graphs;
- service level: answered within the queue's answer target;
- ASA (average speed of answer: mean wait of the answered calls);
- abandon rate; AHT (average handle time: mean talk time of answered calls);
- alarm response: raised → accepted → first contact.

Grouped per hour, per day, per agent and day, per queue (for the context's
date range, in the user's time zone), and the alarm response per day.
Rows are restricted in the query to the regions of the user's scope (the
region of the call: the older person's, else the sub-center's)."""
import datetime as dt

from sql import Cast, Literal, Null
from sql.aggregate import Avg, Count, Max, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import AtTimeZone, DateTrunc, Extract, Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .agent import utcnow

TARGET = 95


class KpiContext(ModelView):
    "Call Center KPI Context"
    __name__ = 'call.kpi.context'
    from_date = fields.Date("From Date",
        domain=[If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')), ())])
    to_date = fields.Date("To Date",
        domain=[If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')), ())])
    queue = fields.Many2One('call.queue', "Queue")

    @classmethod
    def default_from_date(cls):
        return Pool().get('ir.date').today() - dt.timedelta(days=6)

    @classmethod
    def default_to_date(cls):
        return Pool().get('ir.date').today()


def _timezone():
    return Transaction().context.get('timezone') or 'Asia/Shanghai'


def _local(column):
    "naive UTC timestamp column -> naive local time of the user"
    return AtTimeZone(AtTimeZone(column, 'UTC'), _timezone())


def _scope_regions():
    """None: no restriction (root, administrators); else the ids of the
    regions the user may see (empty: nothing)"""
    pool = Pool()
    User = pool.get('res.user')
    Region = pool.get('elder.region')
    ModelData = pool.get('ir.model.data')
    transaction = Transaction()
    if transaction.user == 0 or not transaction.context.get(
            '_check_access'):
        return None
    if ModelData.get_id('res', 'group_admin') in User.get_groups():
        return None
    top = User.get_elder_regions()
    if not top:
        return []
    # the scope's regions and everything below them
    return [r.id for r in Region.search(['OR', ('id', 'in', top),
                ('parent', 'child_of', top, 'parent')])]


class CallKpiMixin(ModelSQL, ModelView):
    offered = fields.Integer("Offered")
    answered = fields.Integer("Answered")
    abandoned = fields.Integer("Abandoned")
    within_target = fields.Integer("Answered in Target")
    answer_rate = fields.Numeric("Connection Rate (%)", digits=(5, 2))
    target = fields.Numeric("Target (%)", digits=(5, 2),
        help="The standard's 95 % line.")
    service_level = fields.Numeric("Service Level (%)", digits=(5, 2))
    abandon_rate = fields.Numeric("Abandon Rate (%)", digits=(5, 2))
    asa = fields.Numeric("ASA (s)", digits=(10, 1),
        help="Average speed of answer: mean wait of the answered calls.")
    aht = fields.Numeric("AHT (s)", digits=(10, 1),
        help="Average handle time: mean talk time of the answered calls.")

    @classmethod
    def _group(cls):
        "names of the columns of the inner query the rows are grouped by"
        raise NotImplementedError

    @classmethod
    def _calls(cls):
        """The inbound ended calls of the context with their grouping keys
        computed once (parameters in GROUP BY would not match those of the
        SELECT)"""
        pool = Pool()
        Call = pool.get('call.call')
        Queue = pool.get('call.queue')
        call = Call.__table__()
        queue = Queue.__table__()
        context = Transaction().context
        where = (call.direction == 'inbound') & (call.state == 'ended') \
            & (call.offered_at != Null)
        local = _local(call.offered_at)
        if context.get('from_date'):
            where &= local >= context['from_date']
        if context.get('to_date'):
            where &= local < context['to_date'] + dt.timedelta(days=1)
        if context.get('queue'):
            where &= call.queue == context['queue']
        regions = _scope_regions()
        if regions is not None:
            where &= call.region.in_(regions or [-1])
        return (call
            .join(queue, 'LEFT', condition=call.queue == queue.id)
            .select(call.id, call.agent, call.seat, call.queue,
                call.outcome, call.wait_seconds, call.talk_seconds,
                Coalesce(queue.answer_target, 20).as_('answer_target'),
                DateTrunc('hour', local).as_('hour'),
                Cast(local, 'DATE').as_('date'),
                where=where))

    @classmethod
    def table_query(cls):
        call = cls._calls()
        answered = call.outcome == 'answered'

        def count(condition):
            return Sum(Case((condition, 1), else_=0))

        def rate(numerator, denominator):
            return Cast(Round(Cast(numerator, 'NUMERIC') * 100
                    / Case((denominator == 0, Null), else_=denominator), 2),
                'NUMERIC')
        offered = Count(call.id)
        n_answered = count(answered)
        n_abandoned = count(call.outcome == 'abandoned')
        within = count(answered & (call.wait_seconds <= call.answer_target))
        group = [getattr(call, n) for n in cls._group()]
        return call.select(
            Min(call.id).as_('id'),
            *[getattr(call, n).as_(n) for n in cls._group()],
            offered.as_('offered'),
            n_answered.as_('answered'),
            n_abandoned.as_('abandoned'),
            within.as_('within_target'),
            rate(n_answered, offered).as_('answer_rate'),
            Cast(Literal(TARGET), 'NUMERIC').as_('target'),
            rate(within, offered).as_('service_level'),
            rate(n_abandoned, offered).as_('abandon_rate'),
            Cast(Round(Cast(Avg(Case((answered, call.wait_seconds))),
                        'NUMERIC'), 1), 'NUMERIC').as_('asa'),
            Cast(Round(Cast(Avg(Case((answered, call.talk_seconds))),
                        'NUMERIC'), 1), 'NUMERIC').as_('aht'),
            group_by=group)


class KpiHour(CallKpiMixin):
    "Connection Rate per Hour"
    __name__ = 'call.kpi.hour'
    hour = fields.Timestamp("Hour")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('hour', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _group(cls):
        return ['hour']


class KpiDay(CallKpiMixin):
    "Connection Rate per Day"
    __name__ = 'call.kpi.day'
    date = fields.Date("Date")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def _group(cls):
        return ['date']


class KpiAgent(CallKpiMixin):
    "Connection Rate per Agent"
    __name__ = 'call.kpi.agent'
    agent = fields.Many2One('call.agent', "Agent")
    seat = fields.Many2One('call.seat', "Seat")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('offered', 'DESC'), ('id', 'ASC')]

    @classmethod
    def _group(cls):
        return ['agent', 'seat']


class KpiQueue(CallKpiMixin):
    "Connection Rate per Queue"
    __name__ = 'call.kpi.queue'
    queue = fields.Many2One('call.queue', "Queue")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('offered', 'DESC'), ('id', 'ASC')]

    @classmethod
    def _group(cls):
        return ['queue']


class KpiAlarm(ModelSQL, ModelView):
    "Alarm Response per Day"
    __name__ = 'call.kpi.alarm'
    date = fields.Date("Date")
    alarms = fields.Integer("Alarms")
    accepted = fields.Integer("Accepted")
    contacted = fields.Integer("Contact Made")
    accept_seconds = fields.Numeric("Raised → Accepted (s)", digits=(10, 1))
    contact_seconds = fields.Numeric("Accepted → First Contact (s)",
        digits=(10, 1))
    response_seconds = fields.Numeric("Raised → First Contact (s)",
        digits=(10, 1))
    max_accept_seconds = fields.Numeric("Longest Wait (s)", digits=(10, 1))
    sla_missed = fields.Integer("SLA Missed")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        Handling = Pool().get('call.alarm.handling')
        t = Handling.__table__()
        context = Transaction().context
        local = _local(t.raised_at)
        where = t.raised_at != Null
        if context.get('from_date'):
            where &= local >= context['from_date']
        if context.get('to_date'):
            where &= local < context['to_date'] + dt.timedelta(days=1)
        regions = _scope_regions()
        if regions is not None:
            where &= t.region.in_(regions or [-1])
        h = t.select(t.id, t.raised_at, t.accepted_at, t.first_contact_at,
            Cast(local, 'DATE').as_('date'),
            Case((Coalesce(t.accepted_at, utcnow()) > t.sla_deadline, 1),
                else_=0).as_('missed'),
            where=where)

        def seconds(end, start):
            return Extract('EPOCH', end - start)

        def avg(expression):
            return Cast(Round(Cast(Avg(expression), 'NUMERIC'), 1),
                'NUMERIC')
        return h.select(
            Min(h.id).as_('id'),
            h.date.as_('date'),
            Count(h.id).as_('alarms'),
            Count(h.accepted_at).as_('accepted'),
            Count(h.first_contact_at).as_('contacted'),
            avg(seconds(h.accepted_at, h.raised_at)).as_('accept_seconds'),
            avg(seconds(h.first_contact_at, h.accepted_at)).as_(
                'contact_seconds'),
            avg(seconds(h.first_contact_at, h.raised_at)).as_(
                'response_seconds'),
            Cast(Round(Cast(Max(seconds(h.accepted_at, h.raised_at)),
                        'NUMERIC'), 1), 'NUMERIC').as_('max_accept_seconds'),
            Sum(h.missed).as_('sla_missed'),
            group_by=[h.date])

# This file is part of the eldercare platform. See LICENSE.
"Recurring service plans (服务计划) that generate orders ahead of time."
import datetime as dt

from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday',
    'saturday', 'sunday']
STATES = [
    ('draft', "Draft"),
    ('running', "Running"),
    ('stopped', "Stopped"),
    ]


class Plan(Workflow, ModelSQL, ModelView):
    "Service plan (服务计划)"
    __name__ = 'service.plan'

    _states = {'readonly': Eval('state') != 'draft'}

    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, ondelete='CASCADE',
        states=_states)
    item = fields.Many2One(
        'service.item', "Service Item", required=True, ondelete='RESTRICT',
        states=_states)
    provider = fields.Many2One(
        'elder.provider', "Provider", ondelete='RESTRICT', states=_states,
        help="Leave empty to dispatch every generated order.")
    monday = fields.Boolean("Monday", states=_states)
    tuesday = fields.Boolean("Tuesday", states=_states)
    wednesday = fields.Boolean("Wednesday", states=_states)
    thursday = fields.Boolean("Thursday", states=_states)
    friday = fields.Boolean("Friday", states=_states)
    saturday = fields.Boolean("Saturday", states=_states)
    sunday = fields.Boolean("Sunday", states=_states)
    time_from = fields.Time("From", states=_states)
    time_to = fields.Time("To", states=_states,
        domain=[If(Eval('time_from') & Eval('time_to'),
                ('time_to', '>=', Eval('time_from')), ())])
    start_date = fields.Date("Start Date", required=True, states=_states)
    end_date = fields.Date("End Date", states=_states,
        domain=[If(Eval('end_date') & Eval('start_date'),
                ('end_date', '>=', Eval('start_date')), ())])
    orders = fields.One2Many(
        'service.order', 'plan', "Orders", readonly=True)
    note = fields.Text("Note")
    state = fields.Selection(STATES, "State", readonly=True, required=True)

    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.state, Index.Equality(cardinality='low'))))
        cls._transitions |= {
            ('draft', 'running'),
            ('running', 'stopped'),
            ('stopped', 'running'),
            }
        cls._buttons.update({
                'run': {
                    'invisible': Eval('state') == 'running',
                    'depends': ['state'],
                    },
                'stop': {
                    'invisible': Eval('state') != 'running',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @classmethod
    def default_start_date(cls):
        return Pool().get('ir.date').today()

    def get_rec_name(self, name):
        return '%s - %s' % (self.elder.rec_name, self.item.rec_name)

    @classmethod
    @ModelView.button
    @Workflow.transition('running')
    def run(cls, plans):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('stopped')
    def stop(cls, plans):
        pass

    def dates(self, start, end):
        "Yield the dates between start and end (included) the plan serves"
        days = {i for i, d in enumerate(WEEKDAYS) if getattr(self, d)}
        start = max(start, self.start_date)
        if self.end_date:
            end = min(end, self.end_date)
        date = start
        while date <= end:
            if date.weekday() in days:
                yield date
            date += dt.timedelta(days=1)

    @classmethod
    def generate_orders(cls, plans=None, today=None):
        """Create the orders of the running plans for the days up to the
        configured horizon; a date that has an order is skipped, so running
        it again creates nothing new"""
        pool = Pool()
        Order = pool.get('service.order')
        Configuration = pool.get('service.configuration')
        Date = pool.get('ir.date')
        if today is None:
            today = Date.today()
        end = today + dt.timedelta(
            days=Configuration(1).value('plan_horizon'))
        if plans is None:
            plans = cls.search([('state', '=', 'running')])
        plans = [p for p in plans if p.state == 'running'
            and p.elder.state == 'active']
        if not plans:
            return []
        existing = {(o.plan.id, o.requested_date) for o in Order.search([
                    ('plan', 'in', [p.id for p in plans]),
                    ('requested_date', '>=', today),
                    ])}
        to_create = []
        for plan in plans:
            for date in plan.dates(today, end):
                if (plan.id, date) in existing:
                    continue
                to_create.append({
                        'elder': plan.elder.id,
                        'item': plan.item.id,
                        'provider': plan.provider and plan.provider.id,
                        'channel': 'plan',
                        'plan': plan.id,
                        'requested_date': date,
                        'time_from': plan.time_from,
                        'time_to': plan.time_to,
                        'note': plan.note,
                        })
        orders = Order.create(to_create)
        Order.submit(orders)
        return orders

    @classmethod
    def cron_generate_orders(cls):
        with Transaction().set_context(_check_access=False):
            cls.generate_orders()

# This file is part of the eldercare platform. See LICENSE.
"""Staffing and reserve plans per provider against demand (人员储备计划,
standard §7.2.2): planned and reserve headcount per practitioner kind, the
active practitioners, and the headcount the service orders of the period
need."""
import math

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.modules.elder_base.practitioner import KINDS
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .exceptions import CommunityValidationError

STATUSES = [
    (None, ""),
    ('shortage', "Shortage"),
    ('reserve_short', "Reserve short"),
    ('ok', "Sufficient"),
    ]
DEMAND_STATES = ('submitted', 'dispatched', 'accepted', 'on_the_way',
    'in_service', 'completed', 'confirmed', 'closed')


class Staffing(ModelSQL, ModelView):
    "Staffing and reserve plan of a provider"
    __name__ = 'practitioner.staffing'
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, ondelete='CASCADE')
    date_from = fields.Date("From", required=True)
    date_to = fields.Date("To", required=True,
        domain=[If(Eval('date_from') & Eval('date_to'),
                ('date_to', '>=', Eval('date_from')), ())])
    lines = fields.One2Many('practitioner.staffing.line', 'staffing', "Lines")
    status = fields.Function(
        fields.Selection(STATUSES, "Status"), 'get_status')
    note = fields.Text("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.provider, Index.Range())))
        cls._order = [('date_from', 'DESC'), ('id', 'DESC')]

    @classmethod
    def default_provider(cls):
        return Pool().get('res.user').get_elder_provider()

    def get_rec_name(self, name):
        return '%s %s – %s' % (
            self.provider.rec_name, self.date_from, self.date_to)

    def get_status(self, name):
        order = {'shortage': 0, 'reserve_short': 1, 'ok': 2}
        statuses = [line.status for line in self.lines if line.status]
        return min(statuses, key=order.get) if statuses else None

    @classmethod
    def validate_fields(cls, plans, field_names):
        super().validate_fields(plans, field_names)
        for plan in plans:
            if plan.date_to < plan.date_from:
                raise CommunityValidationError(gettext(
                        'elder_community.msg_period_invalid'))


class StaffingLine(ModelSQL, ModelView):
    "Staffing plan line per practitioner kind"
    __name__ = 'practitioner.staffing.line'
    staffing = fields.Many2One(
        'practitioner.staffing', "Staffing Plan", required=True,
        ondelete='CASCADE')
    kind = fields.Selection(KINDS, "Practitioner Kind", required=True,
        sort=False)
    planned = fields.Integer("Planned Headcount", required=True,
        domain=[('planned', '>=', 0)])
    reserve = fields.Integer("Reserve", required=True,
        domain=[('reserve', '>=', 0)],
        help="Trained people on call beyond the planned headcount.")
    current = fields.Function(
        fields.Integer("Active Practitioners"), 'get_figures')
    demand_minutes = fields.Function(
        fields.Integer("Demand (Minutes)"), 'get_figures')
    required = fields.Function(
        fields.Integer("Required Headcount"), 'get_figures')
    gap = fields.Function(fields.Integer("Gap",
            help="Active practitioners minus the headcount required by "
            "demand or planned, whichever is higher."), 'get_figures')
    status = fields.Function(
        fields.Selection(STATUSES, "Status"), 'get_figures')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('staffing')
        t = cls.__table__()
        cls._sql_constraints += [
            ('kind_uniq', Unique(t, t.staffing, t.kind),
                'elder_community.msg_staffing_kind_unique'),
            ]

    @staticmethod
    def default_reserve():
        return 0

    @classmethod
    def get_figures(cls, lines, names):
        pool = Pool()
        Order = pool.get('service.order')
        Practitioner = pool.get('elder.practitioner')
        Configuration = pool.get('community.configuration')
        config = Configuration(1)
        result = {n: {} for n in names}
        with Transaction().set_context(_check_access=False):
            for line in lines:
                plan = line.staffing
                current = Practitioner.search_count([
                        ('provider', '=', plan.provider.id),
                        ('kind', '=', line.kind),
                        ('state', '=', 'active'),
                        ])
                orders = Order.search([
                        ('provider', '=', plan.provider.id),
                        ('requested_date', '>=', plan.date_from),
                        ('requested_date', '<=', plan.date_to),
                        ('state', 'in', DEMAND_STATES),
                        ])
                minutes = 0
                for order in orders:
                    kind = order.item.practitioner_kind or 'caregiver'
                    if kind != line.kind:
                        continue
                    minutes += order.duration or int(
                        (order.item.duration or 0) * (order.quantity or 1)
                        if order.item.unit != 'hour'
                        else 60 * (order.quantity or 1))
                days = (plan.date_to - plan.date_from).days + 1
                working_days = days * config.working_days_per_month / 30
                capacity = config.fte_minutes_per_day * working_days
                required = math.ceil(minutes / capacity) if capacity else 0
                need = max(required, line.planned)
                gap = current - need
                if gap < 0:
                    status = 'shortage'
                elif gap < line.reserve:
                    status = 'reserve_short'
                else:
                    status = 'ok'
                values = {
                    'current': current, 'demand_minutes': minutes,
                    'required': required, 'gap': gap, 'status': status}
                for name in names:
                    result[name][line.id] = values[name]
        return result

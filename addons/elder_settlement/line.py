# This file is part of the eldercare platform. See LICENSE.
"""Settlement lines (结算明细): one priced service record per confirmed
service order, split between the subsidy and the older person's payment."""
import datetime as dt
from decimal import Decimal

from sql import Null
from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from . import pricing
from .exceptions import SettlementError

STATES = [
    ('held', "Held for Review"),
    ('pending', "Pending"),
    ('statement', "In Statement"),
    ('excluded', "Excluded"),
    ]
BASES = [
    (None, ""),
    ('full', "Subsidised"),
    ('partial', "Partly subsidised (quota reached)"),
    ('over_quota', "Over quota (self-paid)"),
    ('not_entitled', "Not entitled (self-paid)"),
    ]
UNITS = [
    (None, ""),
    ('visit', "Per visit"),
    ('hour', "Per hour"),
    ('item', "Per item"),
    ]
# Orders that the older person (or the operator on their behalf) has
# confirmed: what the government pays for.
SETTLED_ORDER_STATES = ['confirmed', 'closed']
# Lines whose subsidy counts against the monthly quota.
QUOTA_STATES = ['pending', 'statement']


def month_start(date):
    return date.replace(day=1)


def month_end(date):
    next_month = (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return next_month - dt.timedelta(days=1)


def district_of(region):
    "The banner/county/district above (or at) a region, else the region"
    current = region
    while current:
        if current.level == 'county':
            return current
        current = current.parent
    return region


class Line(ModelSQL, ModelView):
    "Settlement line (结算明细)"
    __name__ = 'settlement.line'
    _sensitivity = {
        'elder': 'personal', 'entitlement': 'sensitive',
        'quota_amount': 'sensitive', 'quota_hours': 'sensitive'}

    order = fields.Many2One(
        'service.order', "Service Order", required=True, readonly=True,
        ondelete='RESTRICT')
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, readonly=True,
        ondelete='RESTRICT')
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, readonly=True,
        ondelete='RESTRICT')
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", readonly=True,
        ondelete='RESTRICT')
    region = fields.Many2One(
        'elder.region', "Region", required=True, readonly=True,
        ondelete='RESTRICT', help="The older person's residence region.")
    district = fields.Many2One(
        'elder.region', "District", required=True, readonly=True,
        ondelete='RESTRICT',
        help="The banner, county or district that settles the line.")
    item = fields.Many2One(
        'service.item', "Service Item", required=True, readonly=True,
        ondelete='RESTRICT')
    service_type = fields.Many2One(
        'elder.service.type', "Service Type", required=True, readonly=True,
        ondelete='RESTRICT')
    service_date = fields.Date("Service Date", required=True, readonly=True)
    service_month = fields.Date(
        "Service Month", required=True, readonly=True,
        help="First day of the month whose quota the service consumes.")
    minutes = fields.Integer("Minutes", readonly=True)
    unit = fields.Selection(UNITS, "Unit", readonly=True)
    quantity = fields.Numeric("Quantity", digits=(16, 2), readonly=True)
    unit_price = fields.Numeric("Unit Price", digits=(16, 2), readonly=True)
    amount = fields.Numeric("Amount", digits=(16, 2), readonly=True)
    hours = fields.Numeric(
        "Hours", digits=(16, 2), readonly=True,
        help="What the service counts against an hour quota.")
    entitlement = fields.Many2One(
        'elder.entitlement', "Entitlement", readonly=True,
        ondelete='RESTRICT',
        help="The home-service subsidy entitlement active on the service "
        "date (elder_assess).")
    quota_amount = fields.Numeric(
        "Monthly Quota (Yuan)", digits=(16, 2), readonly=True,
        help="The entitlement's monthly amount when the line was priced.")
    quota_hours = fields.Numeric(
        "Monthly Quota (Hours)", digits=(16, 2), readonly=True)
    subsidy_amount = fields.Numeric(
        "Subsidy", digits=(16, 2), readonly=True)
    subsidy_hours = fields.Numeric(
        "Subsidised Hours", digits=(16, 2), readonly=True)
    self_pay_amount = fields.Numeric(
        "Self-pay", digits=(16, 2), readonly=True)
    basis = fields.Selection(BASES, "Basis", readonly=True, sort=False)
    basis_string = basis.translated('basis')
    priced_at = fields.Timestamp("Priced At", readonly=True)
    statement = fields.Many2One(
        'settlement.statement', "Statement", readonly=True,
        ondelete='RESTRICT')
    period = fields.Function(
        fields.Date("Settlement Period"), 'get_period')
    note = fields.Char(
        "Note", states={'readonly': Eval('state') == 'statement'},
        help="Why a line was excluded or put back.")
    state = fields.Selection(STATES, "State", readonly=True, required=True)
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('order_uniq', Unique(t, t.order),
                'elder_settlement.msg_line_order_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.elder, Index.Range()),
                    (t.service_month, Index.Range())),
                Index(t, (t.provider, Index.Range()),
                    (t.service_date, Index.Range())),
                Index(t, (t.statement, Index.Range())),
                Index(t, (t.practitioner, Index.Range()),
                    (t.service_date, Index.Range())),
                })
        cls._order = [('service_date', 'ASC'), ('id', 'ASC')]
        cls._buttons.update({
                'exclude': {
                    'invisible': ~Eval('state').in_(
                        ['pending', 'held', 'statement']),
                    'depends': ['state'],
                    },
                'include': {
                    'invisible': Eval('state') != 'excluded',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'pending'

    def get_period(self, name):
        return self.statement.period if self.statement else None

    def get_rec_name(self, name):
        return '%s %s' % (self.order.rec_name, self.service_date)

    @classmethod
    def check_modification(cls, mode, lines, values=None, external=False):
        super().check_modification(
            mode, lines, values=values, external=external)
        if external and mode == 'write' and set(values) - {'note'}:
            raise SettlementError(gettext(
                    'elder_settlement.msg_line_computed'))
        if mode == 'delete':
            for line in lines:
                if line.state == 'statement':
                    raise SettlementError(gettext(
                            'elder_settlement.msg_line_delete',
                            line=line.rec_name))

    # --- pricing -----------------------------------------------------------

    @classmethod
    def active_entitlement(cls, elder, date):
        """Return the active home-service-subsidy entitlement of the older
        person on the date (elder_assess), or None"""
        Entitlement = Pool().get('elder.entitlement')
        with without_check_access():
            active = Entitlement.active(
                elder, date, benefit='home_service_subsidy')
            active = [e for e in active if e.monthly_amount is not None
                or e.monthly_hours is not None]
        return active[0] if active else None

    @classmethod
    def used_quota(cls, elder, month, exclude=None):
        "Return (amount, hours) of subsidy already used by the elder in month"
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = ((line.elder == elder.id) & (line.service_month == month)
            & line.state.in_(QUOTA_STATES) & (line.subsidy_amount != Null))
        if exclude:
            where &= ~line.id.in_(exclude)
        cursor.execute(*line.select(
                Sum(line.subsidy_amount), Sum(line.subsidy_hours),
                where=where))
        amount, hours = cursor.fetchone()
        return (pricing.money(amount or 0), pricing.hours(hours or 0))

    def compute_price(self):
        """Price the line from the order and the catalog and split it under
        the entitlement's monthly quota; return the values to write"""
        order = self.order
        item = order.item
        price = order.price if order.price is not None else item.price
        quantity = order.quantity
        amount = pricing.amount_of(price, quantity)
        service_hours = pricing.hours_of(item.unit, quantity, item.duration)
        entitlement = self.active_entitlement(self.elder, self.service_date)
        quota_amount = quota_hours = None
        if entitlement:
            quota_amount = entitlement.monthly_amount
            quota_hours = entitlement.monthly_hours
        used_amount, used_hours = self.used_quota(
            self.elder, self.service_month,
            exclude=[self.id] if self.id else None)
        subsidy, subsidy_hours, self_pay, basis = pricing.split(
            amount, service_hours,
            monthly_amount=quota_amount, used_amount=used_amount,
            monthly_hours=quota_hours, used_hours=used_hours)
        return {
            'unit': item.unit,
            'quantity': quantity,
            'unit_price': price,
            'amount': amount,
            'hours': service_hours,
            'entitlement': entitlement.id if entitlement else None,
            'quota_amount': quota_amount,
            'quota_hours': quota_hours,
            'subsidy_amount': subsidy,
            'subsidy_hours': subsidy_hours,
            'self_pay_amount': self_pay,
            'basis': basis,
            'priced_at': dt.datetime.now().replace(microsecond=0),
            }

    @classmethod
    def _line_values(cls, order):
        elder = order.elder
        when = order.checkout_time or order.checkin_time or dt.datetime.combine(
            order.requested_date, dt.time())
        date = when.date()
        return {
            'order': order.id,
            'elder': elder.id,
            'provider': order.provider.id,
            'practitioner': (
                order.practitioner.id if order.practitioner else None),
            'region': elder.region.id,
            'district': district_of(elder.region).id,
            'item': order.item.id,
            'service_type': order.item.service_type.id,
            'service_date': date,
            'service_month': month_start(date),
            'minutes': order.duration,
            }

    @classmethod
    def collect(cls, until):
        """Create the lines of the confirmed orders served on or before the
        date that have none yet, then price the new lines and the held ones
        whose anomalies were reviewed; return the lines priced"""
        pool = Pool()
        Order = pool.get('service.order')
        order = Order.__table__()
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        # One settlement at a time: the quota of a month is consumed in
        # order, and an order is priced once.
        cls.lock()
        limit = dt.datetime.combine(until + dt.timedelta(days=1), dt.time())
        cursor.execute(*order.join(line, 'LEFT',
                condition=line.order == order.id).select(
                order.id,
                where=order.state.in_(SETTLED_ORDER_STATES)
                & (order.provider != Null)
                & (order.checkout_time < limit)
                & (line.id == Null),
                order_by=[order.checkout_time.asc, order.id.asc]))
        orders = Order.browse([r for r, in cursor])
        new = cls.create([cls._line_values(o) for o in orders])
        for line_, order_ in zip(new, orders):
            if order_.flagged:
                line_.state = 'held'
        cls.save([l for l in new if l.state == 'held'])
        held = cls.search([
                ('state', '=', 'held'),
                ('order.flagged', '=', False),
                ('service_date', '<=', until),
                ])
        cls.write(held, {'state': 'pending'})
        to_price = sorted(
            [l for l in new if l.state == 'pending'] + held,
            key=lambda l: (l.order.checkout_time or dt.datetime.min,
                l.order.id))
        ids = [l.id for l in to_price]
        for line_id in ids:
            # One by one: each consumes the quota the previous ones left.
            # A fresh instance each time: a write clears the cache of the
            # records read together, so instances of one list would read
            # the whole list again at every step (quadratic).
            line_ = cls(line_id)
            cls.write([line_], line_.compute_price())
        return cls.browse(ids)

    @classmethod
    @ModelView.button
    def exclude(cls, lines):
        "Take lines out of the settlement (a dispute upheld)"
        for line in lines:
            if not line.note:
                raise SettlementError(gettext(
                        'elder_settlement.msg_exclude_note',
                        line=line.rec_name))
            if line.statement and line.statement.state != 'draft':
                raise SettlementError(gettext(
                        'elder_settlement.msg_exclude_statement',
                        line=line.rec_name,
                        statement=line.statement.rec_name))
        cls.write(lines, {
                'state': 'excluded', 'statement': None,
                'subsidy_amount': None,
                'subsidy_hours': None, 'self_pay_amount': None,
                'basis': None})

    @classmethod
    @ModelView.button
    def include(cls, lines):
        "Put excluded lines back; the next settlement run prices them"
        cls.write(lines, {'state': 'held'})
        for line in lines:
            if not line.order.flagged:
                cls.write([line], {
                        'state': 'pending', **line.compute_price()})

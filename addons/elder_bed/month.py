# This file is part of the eldercare platform. See LICENSE.
"""Monthly review of a family bed (床位月度评价): services delivered against
the plan, device uptime, alarms, and the bed-month subsidy that settlement
pays the provider."""
import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from sql import Literal
from sql.aggregate import Count
from sql.functions import Extract, Floor

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

from trytond.modules.elder_device.device import OFFLINE_FACTOR

from .bed import LIVE_STATES
from .exceptions import BedError

DELIVERED = ['completed', 'confirmed', 'closed']
CENT = Decimal('0.01')


def month_start(date):
    return date.replace(day=1)


def month_end(date):
    following = (date.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
    return following - dt.timedelta(days=1)


def ratio(numerator, denominator):
    if not denominator:
        return Decimal('1.0000')
    return (Decimal(numerator) / Decimal(denominator)).quantize(
        Decimal('0.0001'), rounding=ROUND_HALF_UP)


def bed_month_subsidy(monthly, live_days, days, compliance, min_compliance):
    """Subsidy of a bed-month: the monthly amount in proportion to the days
    in service, and in proportion to the services delivered when the plan
    compliance is below the minimum; half up to the fen"""
    if not monthly or not live_days or not days:
        return Decimal('0.00')
    amount = Decimal(monthly) * Decimal(live_days) / Decimal(days)
    if compliance is not None and compliance < min_compliance:
        amount *= compliance
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


class Month(Workflow, ModelSQL, ModelView):
    "Family bed monthly review (床位月度评价)"
    __name__ = 'bed.month'
    _sensitivity = {'elder': 'personal', 'subsidy_amount': 'sensitive',
        'monthly_amount': 'sensitive'}

    bed = fields.Many2One(
        'bed.bed', "Bed", required=True, readonly=True, ondelete='RESTRICT')
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, readonly=True,
        ondelete='RESTRICT')
    provider = fields.Many2One(
        'elder.provider', "Service Provider", required=True, readonly=True,
        ondelete='RESTRICT')
    region = fields.Many2One(
        'elder.region', "Region", required=True, readonly=True,
        ondelete='RESTRICT')
    month = fields.Date("Month", required=True, readonly=True,
        help="First day of the reviewed month.")
    days = fields.Integer("Days in Month", readonly=True)
    live_days = fields.Integer("Days in Service", readonly=True)
    planned = fields.Integer("Services Planned", readonly=True)
    delivered = fields.Integer("Services Delivered", readonly=True)
    compliance = fields.Numeric(
        "Plan Compliance", digits=(5, 4), readonly=True)
    uptime = fields.Numeric(
        "Device Uptime", digits=(5, 4), readonly=True,
        help="Share of the heartbeat windows (twice the device type's "
        "heartbeat interval) in service in which the bed's devices sent "
        "a message, averaged over the devices.")
    alarms = fields.Integer("Alarms", readonly=True)
    monthly_amount = fields.Numeric(
        "Monthly Subsidy", digits=(16, 2), readonly=True)
    subsidy_amount = fields.Numeric("Subsidy", digits=(16, 2), readonly=True)
    flagged = fields.Boolean("Flagged", readonly=True,
        help="Compliance or uptime below the configured minimum.")
    note = fields.Text("Review Note",
        states={'readonly': Eval('state') != 'draft'})
    reviewed_by = fields.Many2One('res.user', "Reviewed By", readonly=True)
    state = fields.Selection([
            ('draft', "Draft"),
            ('approved', "Approved"),
            ], "State", required=True, readonly=True, sort=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('bed_month_uniq', Unique(t, t.bed, t.month),
                'elder_bed.msg_month_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.month, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('month', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'approved')}
        cls._buttons.update({
                'recompute': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                'approve': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    def get_rec_name(self, name):
        return '%s %s' % (self.bed.rec_name, self.month.strftime('%Y-%m'))

    @classmethod
    def check_modification(cls, mode, months, values=None, external=False):
        super().check_modification(
            mode, months, values=values, external=external)
        if external and mode == 'write' and set(values) - {'note'}:
            raise BedError(gettext('elder_bed.msg_month_computed'))
        if mode == 'delete':
            for month in months:
                if month.state != 'draft':
                    raise BedError(gettext('elder_bed.msg_month_delete',
                            month=month.rec_name))

    # --- computation ------------------------------------------------------

    @staticmethod
    def live_days_of(bed, start, end):
        "Days between start and end (included) on which the bed was live"
        state = None
        events = sorted(bed.events, key=lambda e: (e.date, e.at or
                dt.datetime.min, e.id))
        changes = {}
        for event in events:
            if event.date < start:
                state = event.to_state
            else:
                changes.setdefault(event.date, []).append(event.to_state)
        count = 0
        day = start
        while day <= end:
            for to_state in changes.get(day, []):
                state = to_state
            if state in LIVE_STATES:
                count += 1
            day += dt.timedelta(days=1)
        return count

    @staticmethod
    def device_uptime(devices, start, end):
        """Average share of heartbeat windows with a message between start
        and end (datetimes, UTC) over the devices; None without devices"""
        pool = Pool()
        Telemetry = pool.get('device.telemetry')
        telemetry = Telemetry.__table__()
        cursor = Transaction().connection.cursor()
        ratios = []
        for device in devices:
            begin = start
            if device.installed_date:
                begin = max(begin, dt.datetime.combine(
                        device.installed_date, dt.time()))
            if begin >= end:
                continue
            window = device.type.heartbeat_interval * 60 * OFFLINE_FACTOR
            slots = int(((end - begin).total_seconds() + window - 1)
                // window)
            if not slots:
                continue
            epoch = Extract('EPOCH', telemetry.ts)
            cursor.execute(*telemetry.select(
                    Count(Floor(epoch / Literal(window)), distinct=True),
                    where=(telemetry.device == device.id)
                    & (telemetry.ts >= begin) & (telemetry.ts < end)))
            seen, = cursor.fetchone()
            ratios.append(min(Decimal(seen or 0) / Decimal(slots), 1))
        if not ratios:
            return None
        return (sum(ratios) / len(ratios)).quantize(
            Decimal('0.0001'), rounding=ROUND_HALF_UP)

    @classmethod
    def compute_values(cls, bed, month):
        pool = Pool()
        Order = pool.get('service.order')
        Alarm = pool.get('device.alarm')
        Configuration = pool.get('bed.configuration')
        Date = pool.get('ir.date')
        config = Configuration(1)
        start, end = month_start(month), month_end(month)
        today = Date.today()
        days = (end - start).days + 1
        # a month under way counts the days up to today only
        live_days = cls.live_days_of(bed, start, min(end, today))
        plans = [s.plan.id for s in bed.services if s.plan]
        orders = Order.search([
                ('plan', 'in', plans),
                ('requested_date', '>=', start),
                ('requested_date', '<=', min(end, today)),
                ('state', '!=', 'cancelled'),
                ]) if plans else []
        planned = len(orders)
        delivered = len([o for o in orders if o.state in DELIVERED])
        compliance = ratio(delivered, planned)
        devices = [l.device for l in bed.devices if l.device]
        period_end = min(dt.datetime.combine(end + dt.timedelta(days=1),
                dt.time()), dt.datetime.utcnow().replace(microsecond=0))
        uptime = cls.device_uptime(
            devices, dt.datetime.combine(start, dt.time()), period_end)
        alarms = Alarm.search_count([
                ('device', 'in', [d.id for d in devices]),
                ('first_occurrence', '>=', dt.datetime.combine(
                        start, dt.time())),
                ('first_occurrence', '<', dt.datetime.combine(
                        end + dt.timedelta(days=1), dt.time())),
                ]) if devices else 0
        monthly = bed.monthly_subsidy or Decimal(0)
        subsidy = bed_month_subsidy(monthly, live_days, days, compliance,
            config.min_compliance)
        flagged = (compliance < config.min_compliance
            or (uptime is not None and uptime < config.min_uptime))
        return {
            'bed': bed.id,
            'elder': bed.elder.id,
            'provider': bed.provider.id,
            'region': bed.region.id,
            'month': start,
            'days': days,
            'live_days': live_days,
            'planned': planned,
            'delivered': delivered,
            'compliance': compliance,
            'uptime': uptime,
            'alarms': alarms,
            'monthly_amount': monthly,
            'subsidy_amount': subsidy,
            'flagged': flagged,
            }

    @classmethod
    def review(cls, beds, month):
        """Create (or recompute the drafts of) the reviews of the beds for
        the month; return them"""
        month = month_start(month)
        result = []
        with without_check_access():
            existing = {m.bed.id: m for m in cls.search([
                        ('bed', 'in', [b.id for b in beds]),
                        ('month', '=', month),
                        ])}
            to_create = []
            for bed in beds:
                if not bed.provider or not bed.live_date \
                        or bed.live_date > month_end(month):
                    continue
                values = cls.compute_values(bed, month)
                record = existing.get(bed.id)
                if record:
                    if record.state == 'draft':
                        cls.write([record], values)
                    result.append(record)
                else:
                    to_create.append(values)
            result += cls.create(to_create)
        return result

    @classmethod
    def cron_review(cls):
        "Review the previous month of every bed that was in service"
        pool = Pool()
        Bed = pool.get('bed.bed')
        Date = pool.get('ir.date')
        previous = month_start(month_start(Date.today())
            - dt.timedelta(days=1))
        with without_check_access():
            beds = Bed.search([
                    ('live_date', '!=', None),
                    ('live_date', '<=', month_end(previous)),
                    ['OR', ('end_date', '=', None),
                        ('end_date', '>=', previous)],
                    ])
            return cls.review(beds, previous)

    @classmethod
    @ModelView.button
    def recompute(cls, months):
        months = [m for m in months if m.state == 'draft']
        for month in months:
            with without_check_access():
                cls.write([month], cls.compute_values(month.bed, month.month))

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, months):
        "The supervisor approves the review: its subsidy can be settled"
        for month in months:
            if month.flagged and not month.note:
                raise BedError(gettext('elder_bed.msg_month_flagged_note',
                        month=month.rec_name))
        cls.write(months, {'reviewed_by': Transaction().user})

    # --- settlement (see settlement.py) -----------------------------------

    def settlement_values(self):
        """Values of the settlement line that pays this bed-month's
        subsidy to the provider (elder_settlement's line fields)"""
        date = month_end(self.month)
        return {
            'elder': self.elder.id,
            'provider': self.provider.id,
            'region': self.region.id,
            'service_date': date,
            'service_month': self.month,
            'quantity': Decimal(self.live_days),
            'unit_price': self.monthly_amount,
            'amount': self.subsidy_amount,
            'subsidy_amount': self.subsidy_amount,
            'self_pay_amount': Decimal('0.00'),
            'priced_at': dt.datetime.now().replace(microsecond=0),
            }

    @classmethod
    def to_settle(cls, until):
        "Approved reviews with a subsidy, of months ending on or before until"
        return cls.search([
                ('state', '=', 'approved'),
                ('subsidy_amount', '>', 0),
                ('month', '<=', month_start(until)),
                ])

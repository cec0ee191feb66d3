# This file is part of the eldercare platform. See LICENSE.
"""Fund monitoring (§7.1.2 use of funds): unusual patterns flagged for
review — a budget nearly spent, an older person whose monthly quota runs
out early month after month, a practitioner with an implausible volume."""
import datetime as dt
from collections import defaultdict
from decimal import Decimal

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .line import QUOTA_STATES, month_end, month_start

KINDS = [
    ('budget', "Budget nearly spent"),
    ('quota_early', "Quota exhausted early every month"),
    ('practitioner_volume', "Implausible practitioner volume"),
    ]


def previous_month(month):
    return month_start(month - dt.timedelta(days=1))


class Alert(Workflow, ModelSQL, ModelView):
    "Fund monitoring alert (资金监管预警)"
    __name__ = 'settlement.alert'
    # 'key' is the pattern's identity (kind:record:date), no credential
    _sensitivity = {'elder': 'personal', 'key': 'internal'}

    key = fields.Char("Key", required=True, readonly=True,
        help="What the alert is about, so a pattern is flagged once.")
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    kind_string = kind.translated('kind')
    date = fields.Date("Date", required=True, readonly=True)
    region = fields.Many2One(
        'elder.region', "Region", required=True, readonly=True,
        ondelete='RESTRICT')
    elder = fields.Many2One(
        'elder.elder', "Older Person", readonly=True, ondelete='RESTRICT')
    provider = fields.Many2One(
        'elder.provider', "Provider", readonly=True, ondelete='RESTRICT')
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", readonly=True,
        ondelete='RESTRICT')
    budget = fields.Many2One(
        'settlement.budget', "Budget", readonly=True, ondelete='CASCADE')
    detail = fields.Char("Detail", readonly=True)
    review_note = fields.Text(
        "Review Note", states={'readonly': Eval('state') != 'open'})
    reviewed_by = fields.Many2One('res.user', "Reviewed By", readonly=True)
    state = fields.Selection([
            ('open', "Open"),
            ('reviewed', "Reviewed"),
            ], "State", readonly=True, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_uniq', Unique(t, t.key),
                'elder_settlement.msg_alert_unique'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.state, Index.Equality(cardinality='low'))))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('open', 'reviewed')}
        cls._buttons.update({
                'review': {
                    'invisible': Eval('state') != 'open',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'open'

    @classmethod
    @ModelView.button
    @Workflow.transition('reviewed')
    def review(cls, alerts):
        cls.write(alerts, {'reviewed_by': Transaction().user})

    @classmethod
    def detect(cls, period):
        "Flag the patterns of the month; return the new alerts"
        values = (cls._detect_budget(period)
            + cls._detect_quota(period)
            + cls._detect_volume(period))
        keys = {v['key'] for v in values}
        existing = {a.key for a in cls.search([('key', 'in', list(keys))])}
        new, seen = [], set()
        for value in values:
            if value['key'] in existing or value['key'] in seen:
                continue
            seen.add(value['key'])
            new.append(value)
        return cls.create(new)

    @classmethod
    def _detect_budget(cls, period):
        Budget = Pool().get('settlement.budget')
        values = []
        for budget in Budget.search([('year', '=', period.year)]):
            if budget.alert:
                values.append({
                        'key': 'budget:%s' % budget.id,
                        'kind': 'budget',
                        'date': month_end(period),
                        'region': budget.region.id,
                        'budget': budget.id,
                        'detail': gettext(
                            'elder_settlement.msg_alert_budget',
                            spent=budget.spent, amount=budget.amount,
                            ratio='%.1f' % (budget.ratio * 100)),
                        })
        return values

    @classmethod
    def exhausted_on(cls, elder, month):
        """The day the older person's quota of the month ran out, or None:
        the service date at which the subsidy reached the monthly amount or
        hours, or on which a service was only partly subsidised or not"""
        Line = Pool().get('settlement.line')
        lines = Line.search([
                ('elder', '=', elder.id),
                ('service_month', '=', month),
                ('state', 'in', QUOTA_STATES),
                ('basis', '!=', None),
                ], order=[('service_date', 'ASC'), ('id', 'ASC')])
        used, used_hours = Decimal(0), Decimal(0)
        for line in lines:
            if line.basis in {'partial', 'over_quota'}:
                return line.service_date
            if line.basis == 'not_entitled':
                continue
            used += line.subsidy_amount or 0
            used_hours += line.subsidy_hours or 0
            if ((line.quota_amount is not None and used >= line.quota_amount)
                    or (line.quota_hours is not None
                        and used_hours >= line.quota_hours)):
                return line.service_date
        return None

    @classmethod
    def _detect_quota(cls, period):
        pool = Pool()
        Line = pool.get('settlement.line')
        Config = pool.get('settlement.configuration')
        config = Config(1)
        day = config.quota_early_day
        months = [period]
        for _ in range(config.quota_early_months - 1):
            months.append(previous_month(months[-1]))
        elders = {l.elder for l in Line.search([
                    ('service_month', '=', period),
                    ('state', 'in', QUOTA_STATES),
                    ('basis', 'in', ['full', 'partial', 'over_quota']),
                    ])}
        values = []
        for elder in sorted(elders, key=lambda e: e.id):
            dates = [cls.exhausted_on(elder, m) for m in months]
            if all(d is not None and d.day < day for d in dates):
                values.append({
                        'key': 'quota:%s:%s' % (elder.id, period.isoformat()),
                        'kind': 'quota_early',
                        'date': month_end(period),
                        'region': elder.region.id,
                        'elder': elder.id,
                        'detail': gettext(
                            'elder_settlement.msg_alert_quota',
                            dates=', '.join(d.isoformat() for d in dates)),
                        })
        return values

    @classmethod
    def _detect_volume(cls, period):
        pool = Pool()
        Line = pool.get('settlement.line')
        Config = pool.get('settlement.configuration')
        config = Config(1)
        days = defaultdict(lambda: [0, 0, None])
        for line in Line.search([
                    ('service_date', '>=', period),
                    ('service_date', '<=', month_end(period)),
                    ('practitioner', '!=', None),
                    ('state', '!=', 'excluded'),
                    ]):
            key = (line.practitioner, line.service_date)
            days[key][0] += 1
            days[key][1] += line.minutes or 0
            days[key][2] = line
        values = []
        for (practitioner, date), (visits, minutes, line) in sorted(
                days.items(), key=lambda i: (i[0][0].id, i[0][1])):
            if visits > config.daily_visits or minutes > config.daily_minutes:
                values.append({
                        'key': 'volume:%s:%s' % (
                            practitioner.id, date.isoformat()),
                        'kind': 'practitioner_volume',
                        'date': date,
                        'region': line.district.id,
                        'provider': line.provider.id,
                        'practitioner': practitioner.id,
                        'detail': gettext(
                            'elder_settlement.msg_alert_volume',
                            visits=visits, minutes=minutes),
                        })
        return values

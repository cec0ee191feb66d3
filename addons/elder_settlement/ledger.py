# This file is part of the eldercare platform. See LICENSE.
"""Subsidy ledger for finance (补贴台账) and budgets per region with the
spending against them (§7.1.2 use of funds)."""
from decimal import Decimal

from sql import Cast, Literal, Null
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Coalesce
from sql.functions import Extract, Round
from sql.operators import Concat, Like

from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from . import pricing
from .line import QUOTA_STATES


class LedgerContext(ModelView):
    "Subsidy ledger context"
    __name__ = 'settlement.ledger.context'
    from_month = fields.Date("From Month",
        domain=[If(Eval('to_month') & Eval('from_month'),
                ('from_month', '<=', Eval('to_month')), ())])
    to_month = fields.Date("To Month",
        domain=[If(Eval('from_month') & Eval('to_month'),
                ('to_month', '>=', Eval('from_month')), ())])
    provider = fields.Many2One('elder.provider', "Provider")
    district = fields.Many2One('elder.region', "District")
    service_type = fields.Many2One('elder.service.type', "Service Type")

    @classmethod
    def default_from_month(cls):
        today = Pool().get('ir.date').today()
        return today.replace(month=1, day=1)

    @classmethod
    def default_to_month(cls):
        return Pool().get('ir.date').today().replace(day=1)


class Ledger(ModelSQL, ModelView):
    """Subsidy ledger: the priced services summed by month, older person,
    provider, district and service type"""
    __name__ = 'settlement.ledger'
    _sensitivity = {'elder': 'personal'}

    month = fields.Date("Month")
    elder = fields.Many2One('elder.elder', "Older Person")
    provider = fields.Many2One('elder.provider', "Provider")
    district = fields.Many2One('elder.region', "District")
    service_type = fields.Many2One('elder.service.type', "Service Type")
    services = fields.Integer("Services")
    amount = fields.Numeric("Amount", digits=(16, 2))
    subsidy_amount = fields.Numeric("Subsidy", digits=(16, 2))
    subsidy_hours = fields.Numeric("Subsidised Hours", digits=(16, 2))
    self_pay_amount = fields.Numeric("Self-pay", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Line = pool.get('settlement.line')
        line = Line.__table__()
        context = Transaction().context
        where = line.state.in_(QUOTA_STATES) & (line.amount != Null)
        if context.get('from_month'):
            where &= line.service_month >= context['from_month'].replace(
                day=1)
        if context.get('to_month'):
            where &= line.service_month <= context['to_month'].replace(day=1)
        for name in ['provider', 'district', 'service_type']:
            if context.get(name):
                where &= getattr(line, name) == context[name]
        return line.select(
            Min(line.id).as_('id'),
            line.service_month.as_('month'),
            line.elder.as_('elder'),
            line.provider.as_('provider'),
            line.district.as_('district'),
            line.service_type.as_('service_type'),
            Count(line.id).as_('services'),
            Sum(line.amount).as_('amount'),
            Sum(Coalesce(line.subsidy_amount, 0)).as_('subsidy_amount'),
            Sum(Coalesce(line.subsidy_hours, 0)).as_('subsidy_hours'),
            Sum(Coalesce(line.self_pay_amount, 0)).as_('self_pay_amount'),
            where=where,
            group_by=[line.service_month, line.elder, line.provider,
                line.district, line.service_type])


class Budget(ModelSQL, ModelView):
    "Subsidy budget of a region (补贴预算)"
    __name__ = 'settlement.budget'

    year = fields.Integer("Year", required=True)
    region = fields.Many2One(
        'elder.region', "Region", required=True, ondelete='RESTRICT',
        help="The budget covers the services of older people living in the "
        "region and the regions below it.")
    amount = fields.Numeric(
        "Budget", digits=(16, 2), required=True,
        domain=[('amount', '>=', 0)])
    spent = fields.Function(
        fields.Numeric("Spent", digits=(16, 2)), 'get_spent')
    remaining = fields.Function(
        fields.Numeric("Remaining", digits=(16, 2)), 'get_spent')
    ratio = fields.Function(
        fields.Float("Spent Ratio", digits=(3, 4)), 'get_spent')
    alert = fields.Function(
        fields.Boolean("Alert",
            help="The subsidy spent reached the configured share of the "
            "budget."),
        'get_spent', searcher='search_alert')
    note = fields.Char("Note")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('year_region_uniq', Unique(t, t.year, t.region),
                'elder_settlement.msg_budget_unique'),
            ]
        cls._order = [('year', 'DESC'), ('region', 'ASC'), ('id', 'ASC')]

    @classmethod
    def default_year(cls):
        return Pool().get('ir.date').today().year

    def get_rec_name(self, name):
        return '%s %s' % (self.year, self.region.rec_name)

    @classmethod
    def spent_query(cls, budgets_where=None):
        """SQL of the subsidy spent per budget and month: (budget, month,
        subsidy) over the priced lines of the budget's region and below"""
        pool = Pool()
        Line = pool.get('settlement.line')
        Region = pool.get('elder.region')
        line = Line.__table__()
        budget = cls.__table__()
        region = Region.__table__()
        top = Region.__table__()
        where = (line.state.in_(QUOTA_STATES)
            & (Extract('YEAR', line.service_month) == budget.year))
        if budgets_where is not None:
            where &= budgets_where(budget)
        return (budget
            .join(top, condition=top.id == budget.region)
            .join(region, condition=Like(
                    region.path, Concat(top.path, '%')))
            .join(line, condition=line.region == region.id)
            .select(
                budget.id.as_('budget'),
                line.service_month.as_('month'),
                Sum(Coalesce(line.subsidy_amount, 0)).as_('subsidy'),
                where=where,
                group_by=[budget.id, line.service_month]))

    @classmethod
    def get_spent(cls, budgets, names):
        pool = Pool()
        Config = pool.get('settlement.configuration')
        cursor = Transaction().connection.cursor()
        ids = [b.id for b in budgets]
        spent = {i: Decimal('0.00') for i in ids}
        query = cls.spent_query(lambda b: b.id.in_(ids))
        cursor.execute(*query)
        for budget, _, subsidy in cursor:
            spent[budget] += pricing.money(subsidy or 0)
        threshold = Config(1).budget_alert or Decimal('0.9')
        result = {n: {} for n in names}
        for budget in budgets:
            value = spent[budget.id]
            ratio = (float(value / budget.amount) if budget.amount
                else (1.0 if value else 0.0))
            values = {
                'spent': value,
                'remaining': budget.amount - value,
                'ratio': round(ratio, 4),
                'alert': Decimal(str(ratio)) >= threshold,
                }
            for name in names:
                result[name][budget.id] = values[name]
        return result


    @classmethod
    def search_alert(cls, name, clause):
        _, operator, value = clause
        budgets = cls.search([])
        wanted = bool(value) if operator == '=' else not bool(value)
        return [('id', 'in', [b.id for b in budgets if b.alert == wanted])]


class BudgetMonth(ModelSQL, ModelView):
    "Budget against spending by month"
    __name__ = 'settlement.budget.month'
    budget = fields.Many2One('settlement.budget', "Budget")
    region = fields.Many2One('elder.region', "Region")
    month = fields.Date("Month")
    budget_amount = fields.Numeric(
        "Monthly Budget", digits=(16, 2),
        help="The year's budget spread evenly over twelve months.")
    spent = fields.Numeric("Spent", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('month', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Budget = pool.get('settlement.budget')
        budget = Budget.__table__()
        spent = Budget.spent_query()
        # One row per budget and month of its year, with or without spending
        months = []
        for month in range(1, 13):
            months.append(budget.select(
                    (budget.id * 100 + month).as_('id'),
                    budget.id.as_('budget'),
                    budget.region.as_('region'),
                    Cast(Concat(Concat(Cast(budget.year, 'VARCHAR'), '-'),
                            Literal('%02d-01' % month)), 'DATE').as_('month'),
                    Round(budget.amount / 12, 2).as_('budget_amount')))
        union = months[0]
        for query in months[1:]:
            union = union | query
        return union.join(spent, 'LEFT', condition=(
                spent.budget == union.budget)
            & (spent.month == union.month)).select(
            union.id.as_('id'),
            union.budget.as_('budget'),
            union.region.as_('region'),
            union.month.as_('month'),
            union.budget_amount.as_('budget_amount'),
            Coalesce(spent.subsidy, 0).as_('spent'))

# This file is part of the eldercare platform. See LICENSE.
"""Meal statistics for supervision (§7.1.2): meals per day, point, region
and meal period with the subsidy spent, for the graph and list views."""
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

from .point import MEAL_PERIODS


class StatisticContext(ModelView):
    "Meal Statistics Context"
    __name__ = 'meal.statistic.context'
    from_date = fields.Date("From Date",
        domain=[If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')), ())])
    to_date = fields.Date("To Date",
        domain=[If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')), ())])

    @classmethod
    def default_from_date(cls):
        return Pool().get('ir.date').today().replace(day=1)

    @classmethod
    def default_to_date(cls):
        return Pool().get('ir.date').today()


class Statistic(ModelSQL, ModelView):
    "Meal Statistics (助餐统计)"
    __name__ = 'meal.statistic'
    date = fields.Date("Date")
    point = fields.Many2One('meal.point', "Meal Point")
    provider = fields.Many2One('elder.provider', "Provider")
    region = fields.Many2One('elder.region', "Region")
    meal_period = fields.Selection(MEAL_PERIODS, "Meal Period")
    served = fields.Integer("Meals Served")
    subsidised = fields.Integer("Subsidised Meals")
    delivered = fields.Integer("Delivered")
    no_show = fields.Integer("No-shows")
    cancelled = fields.Integer("Cancelled")
    amount = fields.Numeric("Amount", digits=(16, 2))
    subsidy = fields.Numeric("Subsidy", digits=(16, 2))
    self_pay = fields.Numeric("Self-pay", digits=(16, 2))

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'ASC'), ('point', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Order = pool.get('meal.order')
        Point = pool.get('meal.point')
        o = Order.__table__()
        p = Point.__table__()
        context = Transaction().context
        where = o.state != 'ordered'
        if context.get('from_date'):
            where &= o.date >= context['from_date']
        if context.get('to_date'):
            where &= o.date <= context['to_date']
        served = o.state == 'served'

        def count(condition):
            return Sum(Case((condition, 1), else_=0))

        def total(column):
            return Sum(Case((served, column), else_=0))
        return (o.join(p, condition=o.point == p.id)
            .select(
                Min(o.id).as_('id'),
                o.date.as_('date'),
                o.point.as_('point'),
                p.provider.as_('provider'),
                o.region.as_('region'),
                o.meal_period.as_('meal_period'),
                count(served).as_('served'),
                count(served & (o.subsidised == True)).as_(  # noqa: E712
                    'subsidised'),
                count(served & (o.service_mode == 'delivery')).as_(
                    'delivered'),
                count(o.state == 'no_show').as_('no_show'),
                count(o.state == 'cancelled').as_('cancelled'),
                total(o.price).as_('amount'),
                total(o.subsidy_amount).as_('subsidy'),
                total(o.self_pay_amount).as_('self_pay'),
                Count(o.id).as_('_count'),
                where=where,
                group_by=[o.date, o.point, p.provider, o.region,
                    o.meal_period]))

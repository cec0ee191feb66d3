# This file is part of the eldercare platform. See LICENSE.
"Service statistics for supervision (standard §7.1.2)."
from sql import Null
from sql.aggregate import Avg, Count, Min, Sum
from sql.conditionals import Case

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction

DONE = ('completed', 'confirmed', 'closed')


class OrderStatisticContext(ModelView):
    "Service statistics context"
    __name__ = 'service.order.statistic.context'
    from_date = fields.Date("From Date",
        domain=[If(Eval('to_date') & Eval('from_date'),
                ('from_date', '<=', Eval('to_date')), ())])
    to_date = fields.Date("To Date",
        domain=[If(Eval('from_date') & Eval('to_date'),
                ('to_date', '>=', Eval('from_date')), ())])

    @classmethod
    def default_from_date(cls):
        today = Pool().get('ir.date').today()
        return today.replace(day=1)

    @classmethod
    def default_to_date(cls):
        return Pool().get('ir.date').today()


class OrderStatistic(ModelSQL, ModelView):
    "Service statistics by provider, region and service type"
    __name__ = 'service.order.statistic'
    provider = fields.Many2One('elder.provider', "Provider")
    region = fields.Many2One('elder.region', "Region")
    service_type = fields.Many2One('elder.service.type', "Service Type")
    orders = fields.Integer("Orders")
    done = fields.Integer("Completed")
    open = fields.Integer("Open")
    cancelled = fields.Integer("Cancelled")
    flagged = fields.Integer("Flagged")
    rating = fields.Float("Average Rating", digits=(3, 2))
    minutes = fields.Integer("Service Minutes")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('orders', 'DESC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Order = pool.get('service.order')
        Item = pool.get('service.item')
        o = Order.__table__()
        i = Item.__table__()
        context = Transaction().context
        where = o.state != 'draft'
        if context.get('from_date'):
            where &= o.requested_date >= context['from_date']
        if context.get('to_date'):
            where &= o.requested_date <= context['to_date']

        def when(condition):
            return Sum(Case((condition, 1), else_=0))
        return (o
            .join(i, condition=o.item == i.id)
            .select(
                Min(o.id).as_('id'),
                o.provider.as_('provider'),
                o.region.as_('region'),
                i.service_type.as_('service_type'),
                Count(o.id).as_('orders'),
                when(o.state.in_(DONE)).as_('done'),
                when(~o.state.in_(DONE + ('cancelled',))).as_('open'),
                when(o.state == 'cancelled').as_('cancelled'),
                when(o.flagged == True).as_('flagged'),  # noqa: E712
                Avg(Case((o.rating != Null, o.rating))).as_('rating'),
                Sum(o.duration).as_('minutes'),
                where=where,
                group_by=[o.provider, o.region, i.service_type]))

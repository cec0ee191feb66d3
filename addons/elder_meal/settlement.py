# This file is part of the eldercare platform. See LICENSE.
"""Served meals into the settlement of elder_settlement (same statements,
supplier invoices and subsidy accounting as home services).

elder_settlement prices one line per confirmed service order; it has no
generic hook for other sources yet, so this module extends
``settlement.line`` through the pool:

- a line has either an ``order`` (home service) or a ``meal`` (a served
  meal order); ``order`` and ``item`` are no longer required, a unique
  constraint keeps one line per meal;
- ``collect(until)`` also creates the lines of the meals served up to the
  date (``meal_lines``), already priced at serving (``meal.order``: price,
  subsidy, self-pay), service type 07 助餐服务 (expense account 500107);
- ``used_quota`` (the home-service quota) ignores meal lines, and meal lines
  carry no ``basis`` so the home-service quota alerts ignore them;
- ``include`` re-prices an excluded meal line from its meal.

``SettlementMeal.lines_of(month, provider=None)`` returns the month's lines
per meal-point provider: the clean interface if elder_settlement grows a
generic source hook (see README).
"""
import datetime as dt

from sql import Null

from trytond.model import Unique, fields
from trytond.modules.elder_settlement import pricing as settlement_pricing
from trytond.modules.elder_settlement.line import (
    QUOTA_STATES, district_of, month_end, month_start)
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

MEAL_SERVICE_TYPE = '07'


class Line(metaclass=PoolMeta):
    __name__ = 'settlement.line'
    _sensitivity = {'meal': 'personal'}
    meal = fields.Many2One('meal.order', "Meal", readonly=True,
        ondelete='RESTRICT')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.order.required = False
        cls.item.required = False
        cls._sql_constraints += [
            ('meal_uniq', Unique(t, t.meal), 'elder_meal.msg_line_meal'),
            ]

    def get_rec_name(self, name):
        if self.meal:
            return '%s %s' % (self.meal.number, self.service_date)
        return super().get_rec_name(name)

    @classmethod
    def used_quota(cls, elder, month, exclude=None):
        "The home-service quota: meal lines do not consume it"
        from sql.aggregate import Sum
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        where = ((line.elder == elder.id) & (line.service_month == month)
            & line.state.in_(QUOTA_STATES) & (line.subsidy_amount != Null)
            & (line.meal == Null))
        if exclude:
            where &= ~line.id.in_(exclude)
        cursor.execute(*line.select(
                Sum(line.subsidy_amount), Sum(line.subsidy_hours),
                where=where))
        amount, hours = cursor.fetchone()
        return (settlement_pricing.money(amount or 0),
            settlement_pricing.hours(hours or 0))

    def compute_price(self):
        if not self.meal:
            return super().compute_price()
        meal = self.meal
        return {
            'unit': None,
            'quantity': 1,
            'unit_price': meal.price,
            'amount': meal.price,
            'hours': None,
            'entitlement': meal.entitlement.id if meal.entitlement else None,
            'quota_amount': None,
            'quota_hours': None,
            'subsidy_amount': meal.subsidy_amount,
            'subsidy_hours': None,
            'self_pay_amount': meal.self_pay_amount,
            'basis': None,
            'priced_at': dt.datetime.now().replace(microsecond=0),
            }

    @classmethod
    def meal_service_type(cls):
        ServiceType = Pool().get('elder.service.type')
        types = ServiceType.search([('code', '=', MEAL_SERVICE_TYPE)],
            limit=1)
        return types[0] if types else None

    @classmethod
    def _meal_line_values(cls, meal, service_type):
        elder = meal.elder
        return {
            'meal': meal.id,
            'elder': elder.id,
            'provider': meal.point.provider.id,
            'region': elder.region.id,
            'district': district_of(elder.region).id,
            'service_type': service_type.id,
            'service_date': meal.date,
            'service_month': month_start(meal.date),
            }

    @classmethod
    def collect(cls, until):
        priced = super().collect(until)
        return priced + cls.meal_lines(until)

    @classmethod
    def meal_lines(cls, until):
        "Create and price the lines of the meals served up to until"
        pool = Pool()
        Order = pool.get('meal.order')
        order = Order.__table__()
        line = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*order.join(line, 'LEFT',
                condition=line.meal == order.id).select(
                order.id,
                where=(order.state == 'served') & (order.date <= until)
                & (line.id == Null),
                order_by=[order.date.asc, order.id.asc]))
        meals = Order.browse([r for r, in cursor])
        if not meals:
            return []
        service_type = cls.meal_service_type()
        lines = cls.create([cls._meal_line_values(m, service_type)
                for m in meals])
        for line_ in lines:
            cls.write([line_], line_.compute_price())
        return lines

    @classmethod
    def include(cls, lines):
        meals = [l for l in lines if l.meal]
        others = [l for l in lines if not l.meal]
        if others:
            super().include(others)
        for line in meals:
            cls.write([line], {'state': 'pending', **line.compute_price()})


class SettlementMeal:
    "The interface of meals towards the settlement"

    @staticmethod
    def lines_of(month, provider=None):
        """The settlement lines of the meals served in the month (any day of
        it), optionally of one provider, by provider id"""
        Line = Pool().get('settlement.line')
        start = month_start(month)
        domain = [
            ('meal', '!=', None),
            ('service_date', '>=', start),
            ('service_date', '<=', month_end(start)),
            ]
        if provider:
            domain.append(('provider', '=', int(provider)))
        result = {}
        for line in Line.search(domain, order=[('service_date', 'ASC'),
                    ('id', 'ASC')]):
            result.setdefault(line.provider.id, []).append(line)
        return result

# This file is part of the eldercare platform. See LICENSE.
"Utilisation of facilities per day (利用率): visits, people, meals, places."
from sql import Literal, Null
from sql.aggregate import Count, Min, Sum
from sql.conditionals import Case, Coalesce
from sql.functions import Round

from trytond.model import ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval, If
from trytond.transaction import Transaction


class UtilisationContext(ModelView):
    "Facility utilisation context"
    __name__ = 'community.facility.utilisation.context'
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


class Utilisation(ModelSQL, ModelView):
    "Facility utilisation per day"
    __name__ = 'community.facility.utilisation'
    facility = fields.Many2One('community.facility', "Facility")
    region = fields.Many2One('elder.region', "Region")
    operator = fields.Many2One('elder.provider', "Operator")
    date = fields.Date("Date")
    visits = fields.Integer("Visits")
    people = fields.Integer("Older People")
    meals = fields.Integer("Meals")
    seats = fields.Integer("Day-care Places")
    occupancy = fields.Float("Occupancy (%)", digits=(5, 1),
        help="Older people of the day per 100 day-care places.")
    minutes = fields.Integer("Minutes Present")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('facility', 'ASC'), ('id', 'ASC')]

    @classmethod
    def table_query(cls):
        pool = Pool()
        Attendance = pool.get('community.attendance')
        Facility = pool.get('community.facility')
        a = Attendance.__table__()
        f = Facility.__table__()
        context = Transaction().context
        where = Literal(True)
        if context.get('from_date'):
            where &= a.date >= context['from_date']
        if context.get('to_date'):
            where &= a.date <= context['to_date']
        people = Count(a.elder, distinct=True)
        minutes = Sum(Case((a.checkout_time != Null,
                    (a.checkout_time - a.checkin_time)), else_=Null))
        return (a
            .join(f, condition=a.facility == f.id)
            .select(
                # One row per facility and day: the smallest attendance id
                # of the group is unique.
                Min(a.id).as_('id'),
                a.facility.as_('facility'),
                f.region.as_('region'),
                f.operator.as_('operator'),
                a.date.as_('date'),
                Count(a.id).as_('visits'),
                people.as_('people'),
                Sum(Case((a.meal == Literal(True), 1), else_=0)).as_('meals'),
                f.seats.as_('seats'),
                Case((Coalesce(f.seats, 0) > 0,
                        Round((people * 100).cast('NUMERIC') / f.seats, 1)
                        .cast('FLOAT')),
                    else_=Null).as_('occupancy'),
                Coalesce(_minutes(minutes), 0).as_('minutes'),
                where=where,
                group_by=[a.facility, f.region, f.operator, a.date, f.seats]))


def _minutes(interval):
    from sql.functions import Extract
    return (Extract('EPOCH', interval) / 60).cast('INTEGER')

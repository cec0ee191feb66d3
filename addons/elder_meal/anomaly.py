# This file is part of the eldercare platform. See LICENSE.
"""Supervision anomalies of meal assistance (§7.1.2 use of funds): the same
person served at two points in one meal period, meals served after the date
of death (a death recorded late), check-ins outside the opening hours of the
period, food-safety licences expiring or expired. Raised by the daily cron
and the *Detect* wizard-less button of the list (``detect``), once per key."""
import datetime as dt
from collections import defaultdict

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval

KINDS = [
    ('two_points', "Same Person at Two Points"),
    ('after_death', "Meal after Death"),
    ('outside_hours', "Check-in outside Opening Hours"),
    ('licence_expiring', "Licence Expiring"),
    ('licence_expired', "Licence Expired"),
    ('delivery_far', "Delivery away from Home"),
    ]


class Anomaly(Workflow, ModelSQL, ModelView):
    "Meal Anomaly (助餐异常)"
    __name__ = 'meal.anomaly'
    # key: the deduplication key (kind and record ids, e.g.
    # 'after_death:<order id>'), not a credential
    _sensitivity = {'elder': 'personal', 'detail': 'personal',
        'key': 'internal'}
    key = fields.Char("Key", required=True, readonly=True)
    kind = fields.Selection(KINDS, "Kind", required=True, readonly=True)
    kind_string = kind.translated('kind')
    date = fields.Date("Date", required=True, readonly=True)
    point = fields.Many2One('meal.point', "Meal Point", readonly=True,
        ondelete='CASCADE')
    region = fields.Many2One('elder.region', "Region", readonly=True,
        ondelete='RESTRICT')
    elder = fields.Many2One('elder.elder', "Older Person", readonly=True,
        ondelete='RESTRICT')
    orders = fields.Many2Many('meal.anomaly-meal.order', 'anomaly', 'order',
        "Orders", readonly=True)
    detail = fields.Char("Detail", readonly=True)
    note = fields.Text("Note", states={'readonly': Eval('state') != 'open'})
    state = fields.Selection([
            ('open', "Open"),
            ('reviewed', "Reviewed"),
            ], "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_uniq', Unique(t, t.key), 'elder_meal.msg_anomaly_key'),
            ]
        cls._sql_indexes.add(Index(t, (t.date, Index.Range(order='DESC'))))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('open', 'reviewed')}
        cls._buttons.update({
                'review': {'invisible': Eval('state') != 'open',
                    'depends': ['state']},
                })

    @staticmethod
    def default_state():
        return 'open'

    @classmethod
    @ModelView.button
    @Workflow.transition('reviewed')
    def review(cls, anomalies):
        pass

    @classmethod
    def _create_new(cls, values):
        keys = {v['key'] for v in values}
        existing = {a.key for a in cls.search([('key', 'in', list(keys))])}
        new, seen = [], set()
        for value in values:
            if value['key'] in existing or value['key'] in seen:
                continue
            seen.add(value['key'])
            new.append(value)
        return cls.create(new) if new else []

    @classmethod
    def detect(cls, start, end):
        "Detect the anomalies of the meals served between two dates"
        return (cls.detect_meals(start, end) + cls.detect_licences())

    @classmethod
    def detect_meals(cls, start, end):
        pool = Pool()
        Order = pool.get('meal.order')
        orders = Order.search([
                ('state', '=', 'served'),
                ('date', '>=', start), ('date', '<=', end),
                ], order=[('date', 'ASC'), ('id', 'ASC')])
        values = []
        by_period = defaultdict(list)
        for order in orders:
            by_period[(order.elder, order.date, order.meal_period)].append(
                order)
            elder = order.elder
            if elder.death_date and order.date > elder.death_date:
                values.append({
                        'key': 'after_death:%s' % order.id,
                        'kind': 'after_death', 'date': order.date,
                        'point': order.point.id, 'region': order.region.id,
                        'elder': elder.id,
                        'orders': [('add', [order.id])],
                        'detail': gettext('elder_meal.msg_anomaly_after_death',
                            death=elder.death_date, order=order.number),
                        })
            if (order.served_at and order.checkin_method != 'delivery'
                    and not order.point.is_open(
                        order.meal_period, order.served_at.time())):
                values.append({
                        'key': 'outside_hours:%s' % order.id,
                        'kind': 'outside_hours', 'date': order.date,
                        'point': order.point.id, 'region': order.region.id,
                        'elder': elder.id,
                        'orders': [('add', [order.id])],
                        'detail': gettext('elder_meal.msg_anomaly_hours',
                            time=order.served_at.strftime('%H:%M'),
                            order=order.number),
                        })
            if order.delivery_flagged:
                values.append({
                        'key': 'delivery_far:%s' % order.id,
                        'kind': 'delivery_far', 'date': order.date,
                        'point': order.point.id, 'region': order.region.id,
                        'elder': elder.id,
                        'orders': [('add', [order.id])],
                        'detail': gettext('elder_meal.msg_anomaly_delivery',
                            distance=('%d' % order.delivery_distance
                                if order.delivery_distance is not None
                                else '?'),
                            order=order.number),
                        })
        for (elder, date, period), group in sorted(
                by_period.items(), key=lambda i: (i[0][0].id, i[0][1])):
            points = {o.point for o in group}
            if len(points) > 1:
                values.append({
                        'key': 'two_points:%s:%s:%s' % (
                            elder.id, date.isoformat(), period),
                        'kind': 'two_points', 'date': date,
                        'region': group[0].region.id, 'elder': elder.id,
                        'orders': [('add', [o.id for o in group])],
                        'detail': gettext('elder_meal.msg_anomaly_two_points',
                            points=', '.join(sorted(
                                    p.code for p in points)),
                            period=period),
                        })
        return cls._create_new(values)

    @classmethod
    def detect_licences(cls):
        pool = Pool()
        Point = pool.get('meal.point')
        today = pool.get('ir.date').today()
        values = []
        for point in Point.search([
                    ('licence_state', 'in', ['expiring', 'expired'])]):
            state = point.licence_state
            values.append({
                    'key': 'licence_%s:%s:%s' % (
                        state, point.id, point.licence_expiry.isoformat()),
                    'kind': 'licence_%s' % state, 'date': today,
                    'point': point.id, 'region': point.region.id,
                    'detail': gettext('elder_meal.msg_anomaly_licence',
                        number=point.licence_number,
                        expiry=point.licence_expiry),
                    })
        return cls._create_new(values)

    @classmethod
    def cron_detect(cls):
        "Daily: the meals of the last seven days and the licences"
        today = Pool().get('ir.date').today()
        return cls.detect(today - dt.timedelta(days=7), today)


class AnomalyOrder(ModelSQL):
    "Meal Anomaly - Order"
    __name__ = 'meal.anomaly-meal.order'
    anomaly = fields.Many2One('meal.anomaly', "Anomaly", required=True,
        ondelete='CASCADE')
    order = fields.Many2One('meal.order', "Order", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('anomaly')

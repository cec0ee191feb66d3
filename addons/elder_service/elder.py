# This file is part of the eldercare platform. See LICENSE.
from sql.aggregate import Avg, Count

from trytond.i18n import gettext
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction

from .dispatch import OPEN_STATES, SERVED_STATES
from .order import CANCELLABLE


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'
    service_orders = fields.One2Many(
        'service.order', 'elder', "Service Orders", readonly=True,
        help="Also the basis on which providers see the older people they "
        "serve.")

    @classmethod
    def write(cls, *args):
        super().write(*args)
        actions = iter(args)
        moved = [e.id for elders, values in zip(actions, actions)
            if 'region' in values for e in elders]
        if moved:
            Pool().get('service.order').update_region(moved)

    @classmethod
    def deceased(cls, elders, date):
        "Stop the services of the deceased: cancel open orders, stop plans"
        pool = Pool()
        Order = pool.get('service.order')
        Plan = pool.get('service.plan')
        super().deceased(elders, date)
        ids = [e.id for e in elders]
        orders = Order.search([
                ('elder', 'in', ids),
                ('state', 'in', CANCELLABLE),
                ])
        Order.write(orders, {'cancel_reason': gettext(
                    'elder_service.msg_cancel_deceased')})
        Order.cancel(orders)
        Plan.stop(Plan.search([
                    ('elder', 'in', ids),
                    ('state', '=', 'running'),
                    ]))


class Provider(metaclass=PoolMeta):
    __name__ = 'elder.provider'
    penalty = fields.Numeric(
        "Evaluation Penalty", digits=(3, 2),
        domain=['OR', ('penalty', '=', None),
            [('penalty', '>=', 0), ('penalty', '<=', 1)]],
        help="0 (none) to 1 (heaviest): lowers the provider's dispatch score "
        "after a poor evaluation (standard §7.8.3).")
    service_rating = fields.Function(
        fields.Float("Average Rating", digits=(3, 2)), 'get_service_stats')
    open_orders = fields.Function(
        fields.Integer("Open Orders"), 'get_service_stats')

    def dispatch_penalty(self):
        """The penalty (0-1) that lowers this provider's dispatch score.

        Modules that judge providers (evaluation, credit) extend it and
        return the heaviest of their penalty and super()'s."""
        return float(self.penalty or 0)

    @classmethod
    def get_service_stats(cls, providers, names):
        pool = Pool()
        Order = pool.get('service.order')
        o = Order.__table__()
        cursor = Transaction().connection.cursor()
        ids = [p.id for p in providers]
        result = {n: {i: None for i in ids} for n in names}
        if 'service_rating' in names:
            cursor.execute(*o.select(o.provider, Avg(o.rating),
                    where=o.provider.in_(ids) & (o.state == 'closed')
                    & (o.rating != None),  # noqa: E711
                    group_by=[o.provider]))
            for provider, rating in cursor:
                result['service_rating'][provider] = round(float(rating), 2)
        if 'open_orders' in names:
            result['open_orders'] = {i: 0 for i in ids}
            cursor.execute(*o.select(o.provider, Count(o.id),
                    where=o.provider.in_(ids) & o.state.in_(OPEN_STATES),
                    group_by=[o.provider]))
            result['open_orders'].update(dict(cursor))
        return result


class Practitioner(metaclass=PoolMeta):
    __name__ = 'elder.practitioner'
    served_count = fields.Function(
        fields.Integer("Visits to the Older Person",
            help="Visits this practitioner made to the older person of the "
            "order being assigned (continuity of care)."),
        'get_served_count')

    @classmethod
    def _served_query(cls, practitioner_column):
        pool = Pool()
        Order = pool.get('service.order')
        o = Order.__table__()
        elder = Transaction().context.get('service_elder')
        try:
            elder = int(elder) if elder is not None else -1
        except (TypeError, ValueError):
            elder = -1
        return o.select(Count(o.id),
            where=(o.practitioner == practitioner_column)
            & (o.elder == elder) & o.state.in_(SERVED_STATES))

    @classmethod
    def get_served_count(cls, practitioners, name):
        pool = Pool()
        Order = pool.get('service.order')
        o = Order.__table__()
        cursor = Transaction().connection.cursor()
        elder = Transaction().context.get('service_elder')
        result = {p.id: 0 for p in practitioners}
        if not isinstance(elder, int):
            return result
        cursor.execute(*o.select(o.practitioner, Count(o.id),
                where=o.practitioner.in_(list(result))
                & (o.elder == elder) & o.state.in_(SERVED_STATES),
                group_by=[o.practitioner]))
        result.update(dict(cursor))
        return result

    @classmethod
    def order_served_count(cls, tables):
        table, _ = tables[None]
        return [cls._served_query(table.id)]

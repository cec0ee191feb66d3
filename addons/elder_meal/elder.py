# This file is part of the eldercare platform. See LICENSE.
"""Older people at meal points: the meal card whose QR code identifies them
at the counter, and the points where they are registered."""
import secrets

from trytond.i18n import gettext
from trytond.model import ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval

from .exceptions import MealOrderError
from .order import QR_PREFIX


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'
    _sensitivity = {'meal_card': 'personal', 'meal_points': 'personal'}

    meal_card = fields.Char("Meal Card", readonly=True,
        help="The token in the QR code printed on the older person's card "
        "(ELDERMEAL:<token>).")
    meal_points = fields.Many2Many('meal.point-elder.elder', 'elder',
        'point', "Meal Points")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('meal_card_uniq', Unique(t, t.meal_card),
                'elder_meal.msg_meal_card_unique'),
            ]
        cls._buttons.update({
                'issue_meal_card': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })

    @classmethod
    def copy(cls, elders, default=None):
        default = default.copy() if default else {}
        default.setdefault('meal_card', None)
        return super().copy(elders, default=default)

    @classmethod
    @ModelView.button
    def issue_meal_card(cls, elders):
        "Issue (or replace) the meal card: a new random token"
        for elder in elders:
            if elder.state != 'active':
                raise MealOrderError(gettext(
                        'elder_meal.msg_order_elder_state',
                        elder=elder.rec_name))
            cls.write([elder], {'meal_card': secrets.token_hex(16)})

    @property
    def meal_card_qr(self):
        return QR_PREFIX + self.meal_card if self.meal_card else None

    @classmethod
    def deceased(cls, elders, date):
        "A death stops the pending meal orders from the day after"
        super().deceased(elders, date)
        Order = Pool().get('meal.order')
        orders = Order.search([
                ('elder', 'in', [e.id for e in elders]),
                ('state', '=', 'ordered'),
                ('date', '>', date),
                ])
        if orders:
            Order.write(orders, {'cancel_reason': gettext(
                        'elder_meal.msg_cancel_deceased')})
            Order.cancel(orders)

# This file is part of the eldercare platform. See LICENSE.
"""The meal points of a staff user, in the record-rule context as
``meal_points`` (a canteen's staff see only their points)."""
from trytond.cache import Cache
from trytond.model import fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class User(metaclass=PoolMeta):
    __name__ = 'res.user'
    meal_points = fields.Many2Many('meal.point-res.user', 'user', 'point',
        "Meal Points", help="The meal points the user works at (counter "
        "staff and terminals see these points only).")
    _get_meal_points_cache = Cache(__name__ + '.get_meal_points',
        context=False)

    @classmethod
    def get_meal_points(cls):
        user_id = Transaction().user
        points = cls._get_meal_points_cache.get(user_id)
        if points is None:
            # plain SQL: this runs inside the record rules' evaluation
            table = Pool().get('meal.point-res.user').__table__()
            cursor = Transaction().connection.cursor()
            cursor.execute(*table.select(table.point,
                    where=table.user == user_id))
            points = sorted({p for p, in cursor})
            cls._get_meal_points_cache.set(user_id, points)
        return points

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        if mode == 'write':
            cls._get_meal_points_cache.clear()


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "meal_points" as the ids of the meal points of the user')

    @classmethod
    def _get_cache_key(cls, model_names):
        User = Pool().get('res.user')
        key = super()._get_cache_key(model_names)
        return (*key, tuple(User.get_meal_points()))

    @classmethod
    def _get_context(cls, model_name):
        User = Pool().get('res.user')
        context = super()._get_context(model_name)
        context['meal_points'] = User.get_meal_points() or [-1]
        return context

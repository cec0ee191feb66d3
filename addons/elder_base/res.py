# This file is part of the eldercare platform. See LICENSE.
from trytond.cache import Cache
from trytond.model import fields
from trytond.pool import PoolMeta
from trytond.transaction import Transaction


class User(metaclass=PoolMeta):
    __name__ = 'res.user'

    elder_region = fields.Many2One(
        'elder.region', "Region Scope", ondelete='RESTRICT',
        help="The user sees the data of this region and the regions below "
        "it (region supervisors, operators, agents, finance).")
    elder_provider = fields.Many2One(
        'elder.provider', "Provider Scope", ondelete='RESTRICT',
        help="Provider users see only this provider's data.")
    _get_elder_scope_cache = Cache(
        __name__ + '.get_elder_scope', context=False)

    @classmethod
    def _elder_scope(cls):
        user_id = Transaction().user
        scope = cls._get_elder_scope_cache.get(user_id)
        if scope is None:
            user = cls(user_id)
            scope = (
                [user.elder_region.id] if user.elder_region else [],
                user.elder_provider.id if user.elder_provider else None,
                )
            cls._get_elder_scope_cache.set(user_id, scope)
        return scope

    @classmethod
    def get_elder_regions(cls):
        "Return the ids of the regions at the top of the user's scope"
        return cls._elder_scope()[0]

    @classmethod
    def get_elder_provider(cls):
        "Return the id of the user's provider or None"
        return cls._elder_scope()[1]

    @classmethod
    def on_modification(cls, mode, users, field_names=None):
        super().on_modification(mode, users, field_names=field_names)
        if mode == 'write':
            cls._get_elder_scope_cache.clear()

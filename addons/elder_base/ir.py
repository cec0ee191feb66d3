# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction


class Rule(metaclass=PoolMeta):
    __name__ = 'ir.rule'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.domain.help += (
            '\n- "elder_regions" as the ids of the user\'s region scope'
            '\n- "elder_provider" as the id of the user\'s provider (or -1)'
            '\n- "user_id" as the id of the user')

    @classmethod
    def _get_cache_key(cls, model_names):
        pool = Pool()
        User = pool.get('res.user')
        key = super()._get_cache_key(model_names)
        return (
            *key, tuple(User.get_elder_regions()), User.get_elder_provider(),
            Transaction().user)

    @classmethod
    def _get_context(cls, model_name):
        pool = Pool()
        User = pool.get('res.user')
        context = super()._get_context(model_name)
        context['elder_regions'] = User.get_elder_regions()
        context['elder_provider'] = User.get_elder_provider() or -1
        context['user_id'] = Transaction().user
        return context

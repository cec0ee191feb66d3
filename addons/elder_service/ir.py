# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('service.order|cron_dispatch',
                    "Dispatch service orders and re-dispatch late ones"),
                ('service.plan|cron_generate_orders',
                    "Generate the orders of service plans"),
                ])

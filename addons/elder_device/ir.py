# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('device.device|check_connections',
                "Check Device Connections and Inactivity"))

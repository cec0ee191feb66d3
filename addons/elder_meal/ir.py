# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('meal.point|cron_licence', "Meal Point Licence Alerts"),
                ('meal.order|cron_no_show', "Meal No-shows"),
                ('meal.anomaly|cron_detect', "Meal Anomaly Detection"),
                ])

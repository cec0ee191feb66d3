# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('bed.bed|cron_overdue',
                    "Flag family beds past their stage deadline"),
                ('bed.month|cron_review',
                    "Create the monthly reviews of family beds"),
                ])

# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('elder.practitioner.certificate|cron_alert_expiring',
                    "Alert expiring practitioner certificates"),
                ('credit.listing|cron_update',
                    "Propose and expire dishonest list entries"),
                ('community.attendance|cron_close_day',
                    "Close day-care visits left open"),
                ])

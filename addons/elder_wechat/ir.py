# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('wechat.notification|send_pending',
                    "Deliver family notifications"),
                ('wechat.payment|cron_reconcile',
                    "Reconcile WeChat payments"),
                ('wechat.throttle|purge', "Purge rate-limit counters"),
                ])

# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('call.agent|end_wrap_up', "End Agents' Wrap-up"),
                ('call.alarm.handling|escalate', "Escalate Alarm Handling"),
                ('call.alarm.handling|sync_open_alarms',
                    "Queue Open Alarms"),
                ('call.callback|generate', "Plan Return Visits"),
                ])

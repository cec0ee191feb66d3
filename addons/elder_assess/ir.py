# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('elder.assessment|cron_take_effect',
                    "Make assessments effective after the objection period"),
                ('elder.assessment|cron_create_requests',
                    "Create the requests of due re-assessments"),
                ('elder.entitlement|cron_evaluate',
                    "Evaluate the entitlements of older people"),
                ])

# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import Pool, PoolMeta


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'

    @classmethod
    def deceased(cls, elders, date):
        """Stop the devices of the older people (standard §7.3.4): each one
        goes back to stock, flagged for collection, its maintainer is
        notified and the open alarms are closed."""
        pool = Pool()
        Device = pool.get('device.device')
        Alarm = pool.get('device.alarm')
        super().deceased(elders, date)
        elder_ids = [e.id for e in elders]
        devices = Device.search([
                ('elder', 'in', elder_ids),
                ('state', 'not in', ['retired']),
                ('to_collect', '=', False),
                ])
        if devices:
            Device.stop_for_death(devices, date)
        alarms = Alarm.search([
                ('elder', 'in', elder_ids),
                ('state', '!=', 'closed'),
                ])
        if alarms:
            Alarm.close_for_death(alarms)

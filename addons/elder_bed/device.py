# This file is part of the eldercare platform. See LICENSE.
from trytond.model import fields
from trytond.pool import PoolMeta


class Device(metaclass=PoolMeta):
    __name__ = 'device.device'
    family_bed_lines = fields.One2Many(
        'bed.device', 'device', "Family Beds", readonly=True)

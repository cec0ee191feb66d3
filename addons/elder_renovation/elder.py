# This file is part of the eldercare platform. See LICENSE.
from trytond.model import fields
from trytond.pool import PoolMeta


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'
    renovations = fields.One2Many(
        'renovation.project', 'elder', "Home Renovations", readonly=True)

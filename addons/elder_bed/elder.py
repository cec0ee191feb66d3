# This file is part of the eldercare platform. See LICENSE.
from trytond.model import fields
from trytond.pool import Pool, PoolMeta


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'
    family_beds = fields.One2Many(
        'bed.bed', 'elder', "Family Beds", readonly=True)

    @classmethod
    def deceased(cls, elders, date):
        "Terminate the family beds of the deceased"
        super().deceased(elders, date)
        Pool().get('bed.bed').stop_for_elder(elders, 'deceased', date)

    @classmethod
    def move_away(cls, elders):
        "Terminate the family beds of older people who moved away"
        pool = Pool()
        Date = pool.get('ir.date')
        super().move_away(elders)
        pool.get('bed.bed').stop_for_elder(elders, 'moved', Date.today())

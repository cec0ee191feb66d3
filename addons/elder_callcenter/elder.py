# This file is part of the eldercare platform. See LICENSE.
"Click-to-dial buttons on the older person and on the contacts."
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'
    calls = fields.One2Many('call.call', 'elder', "Calls", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'dial': {
                    'invisible': ~Eval('phone'),
                    'depends': ['phone'],
                    },
                })

    @classmethod
    @ModelView.button
    def dial(cls, elders):
        Call = Pool().get('call.call')
        for elder in elders:
            Call.click_to_dial(elder.phone, elder=elder.id,
                reference='elder:%s' % elder.id)


class Contact(metaclass=PoolMeta):
    __name__ = 'elder.contact'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'dial': {
                    'invisible': ~Eval('phone'),
                    'depends': ['phone'],
                    },
                })

    @classmethod
    @ModelView.button
    def dial(cls, contacts):
        Call = Pool().get('call.call')
        for contact in contacts:
            Call.click_to_dial(contact.phone, elder=contact.elder.id,
                reference='contact:%s' % contact.id)

# This file is part of the eldercare platform. See LICENSE.
"""Templates end with the consent and with the person: withdrawal of the
biometric consent, death of an older person and a practitioner leaving
delete the templates at once."""
from trytond.pool import Pool, PoolMeta


class Consent(metaclass=PoolMeta):
    __name__ = 'security.consent'

    @classmethod
    def withdraw_consents(cls, consents, when=None):
        consents = super().withdraw_consents(consents, when=when)
        parties = [c.party for c in consents if c.purpose == 'biometrics']
        if parties:
            Pool().get('face.enrolment').remove_for_parties(
                parties, 'withdrawal')
        return consents


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'

    @classmethod
    def deceased(cls, elders, date):
        super().deceased(elders, date)
        Pool().get('face.enrolment').remove_for_parties(
            [e.party for e in elders], 'death')


class Practitioner(metaclass=PoolMeta):
    __name__ = 'elder.practitioner'

    @classmethod
    def leave(cls, practitioners):
        super().leave(practitioners)
        Pool().get('face.enrolment').remove_for_parties(
            [p.party for p in practitioners], 'left')

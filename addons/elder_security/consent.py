# This file is part of the eldercare platform. See LICENSE.
"""Consent records (GB/T 35273 §5.4, §8.4): what the person agreed to.

A consent is given by the person (or the guardian) for one purpose and one
version of the notice; it is withdrawn by setting ``withdrawn_at``, never by
deleting it. Modules that collect biometrics or share data call::

    Consent = Pool().get('security.consent')
    Consent.require(party, 'biometrics')

which raises ``ConsentError`` (a translated ``UserError``) when the person
has no valid consent for the purpose.
"""
import datetime

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.exceptions import UserError
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access


class ConsentError(UserError):
    pass


PURPOSES = [
    ('biometrics', "Biometrics Collection"),
    ('family_sharing', "Sharing with Family"),
    ('data_exchange', "Data Exchange with Other Departments"),
    ('location', "Location Tracking"),
    ('health', "Health Data Processing"),
    ]
GIVEN_BY = [
    ('subject', "The Person"),
    ('guardian', "Guardian"),
    ]
CHANNELS = [
    (None, ""),
    ('paper', "Signed Paper Form"),
    ('counter', "In Person"),
    ('app', "Mini Program / App"),
    ('phone', "Phone (Recorded)"),
    ]


class Consent(ModelSQL, ModelView):
    "Consent (个人信息处理同意)"
    __name__ = 'security.consent'

    _readonly = {'readonly': Eval('id', -1) >= 0}

    party = fields.Many2One(
        'party.party', "Person", required=True, ondelete='RESTRICT',
        states=_readonly,
        help="The person the data is about.")
    purpose = fields.Selection(
        PURPOSES, "Purpose", required=True, sort=False, states=_readonly)
    version = fields.Char(
        "Notice Version", required=True, states=_readonly,
        help="Version of the privacy notice the person agreed to.")
    given_at = fields.Timestamp(
        "Given At", required=True, states=_readonly)
    given_by = fields.Selection(
        GIVEN_BY, "Given By", required=True, states=_readonly)
    guardian = fields.Many2One(
        'party.party', "Guardian", ondelete='RESTRICT',
        states={
            'required': Eval('given_by') == 'guardian',
            'invisible': Eval('given_by') != 'guardian',
            'readonly': _readonly['readonly'],
            })
    channel = fields.Selection(
        CHANNELS, "Channel", states=_readonly)
    recorded_by = fields.Many2One(
        'res.user', "Recorded By", readonly=True, ondelete='RESTRICT')
    withdrawn_at = fields.Timestamp("Withdrawn At", readonly=True)
    valid = fields.Function(fields.Boolean("Valid"), 'get_valid')
    note = fields.Text("Note")

    del _readonly

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(
            Index(t, (t.party, Index.Range()), (t.purpose, Index.Equality())))
        cls._order = [('given_at', 'DESC'), ('id', 'DESC')]
        cls._buttons.update({
                'withdraw': {
                    'invisible': Bool(Eval('withdrawn_at')),
                    'depends': ['withdrawn_at'],
                    },
                })

    @staticmethod
    def default_given_at():
        return datetime.datetime.now()

    @staticmethod
    def default_given_by():
        return 'subject'

    @staticmethod
    def default_recorded_by():
        return Transaction().user or None

    def get_valid(self, name):
        return not self.withdrawn_at

    def get_rec_name(self, name):
        purposes = dict(self.fields_get(['purpose'])['purpose']['selection'])
        return '%s - %s' % (self.party.rec_name, purposes[self.purpose])

    @classmethod
    def check_modification(cls, mode, consents, values=None, external=False):
        super().check_modification(
            mode, consents, values=values, external=external)
        # a consent is evidence: it is withdrawn, never changed or deleted
        if mode == 'delete':
            raise AccessError(gettext('elder_security.msg_consent_immutable'))
        if mode == 'write' and external:
            names = set(values) - {'note'}
            if names - {'withdrawn_at'} or (names and any(
                        c.withdrawn_at for c in consents)):
                raise AccessError(
                    gettext('elder_security.msg_consent_immutable'))

    @classmethod
    @ModelView.button
    def withdraw(cls, consents):
        cls.withdraw_consents(consents)

    @classmethod
    def withdraw_consents(cls, consents, when=None):
        from .separation import audit_log
        consents = [c for c in consents if not c.withdrawn_at]
        if consents:
            cls.write(consents, {
                    'withdrawn_at': when or datetime.datetime.now()})
            for consent in consents:
                audit_log('consent_withdrawal', consent, details={
                        'party': consent.party.id,
                        'purpose': consent.purpose})
        return consents

    @classmethod
    def get_valid_consent(cls, party, purpose):
        "Return the latest valid consent of party for purpose or None"
        party_id = getattr(party, 'id', party)
        with without_check_access():
            consents = cls.search([
                    ('party', '=', party_id),
                    ('purpose', '=', purpose),
                    ('withdrawn_at', '=', None),
                    ], order=[('given_at', 'DESC')], limit=1)
        return consents[0] if consents else None

    @classmethod
    def has(cls, party, purpose):
        return bool(cls.get_valid_consent(party, purpose))

    @classmethod
    def require(cls, party, purpose):
        """Return the valid consent of party for purpose or raise a
        ConsentError naming the person and the purpose."""
        pool = Pool()
        Party = pool.get('party.party')
        consent = cls.get_valid_consent(party, purpose)
        if consent:
            return consent
        if not hasattr(party, 'rec_name'):
            party = Party(party)
        with without_check_access():
            name = party.rec_name
        purposes = dict(cls.fields_get(['purpose'])['purpose']['selection'])
        withdrawn = False
        with without_check_access():
            withdrawn = bool(cls.search([
                        ('party', '=', party.id),
                        ('purpose', '=', purpose),
                        ], limit=1))
        raise ConsentError(gettext(
                'elder_security.msg_consent_withdrawn' if withdrawn
                else 'elder_security.msg_consent_missing',
                party=name, purpose=purposes.get(purpose, purpose)))

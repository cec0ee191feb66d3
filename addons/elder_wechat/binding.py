# This file is part of the eldercare platform. See LICENSE.
"""Family binding: a web user (a family member on WeChat) follows an older
person.

A request names the older person by citizen ID number and name, and the
family member's name, relationship and phone. It is verified either

- by SMS: a six-digit code goes to the older person's registered phone (or,
  without one, to the guardian's); the family member enters it, which
  records the older person's (or guardian's) consent to share their data
  with this family member (security.consent, purpose family_sharing,
  channel app); or
- by the community or the hotline: staff call the older person, then
  confirm the request, which records the consent they heard (channel phone,
  recorded by the staff user).

Once verified, the binding links an elder.contact of the older person to
the web user's party: the registered contact of the same phone when there
is one without an account, else a new contact. The family API of
elder_service (contact.party) and the API of this module then reach that
older person. Unbinding (by the family member or staff), withdrawing the
consent, or the older person's death/move revoke the binding and take the
link away again.
"""
import datetime as dt
import secrets

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.model.exceptions import ValidationError
from trytond.modules.elder_base.elder import (
    RELATIONSHIPS, encrypted, normalize_encrypted)
from trytond.modules.elder_security.crypto import EncryptedMixin, Keyring
from trytond.modules.elder_security.masking import mask_value
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access

STATES = [
    ('pending', "Waiting for Verification"),
    ('active', "Active"),
    ('rejected', "Rejected"),
    ('revoked', "Revoked"),
    ]
METHODS = [
    ('sms', "SMS Code"),
    ('staff', "Community / Hotline Confirmation"),
    ]
GIVEN_BY = [
    (None, ""),
    ('subject', "The Person"),
    ('guardian', "Guardian"),
    ]


class BindingError(ValidationError):
    pass


class Binding(EncryptedMixin, Workflow, ModelSQL, ModelView):
    "Family Binding (家属绑定)"
    __name__ = 'wechat.binding'
    _encrypted_fields = {'phone': 'phone'}
    _sensitivity = {
        'web_user': 'personal', 'party': 'personal', 'elder': 'personal',
        'name': 'personal', 'relationship': 'personal', 'phone': 'personal',
        'contact': 'personal', 'code_hash': 'sensitive',
        'code_phone': 'personal', 'staff_note': 'personal',
        'revoke_reason': 'personal', 'previous_party': 'personal',
        }
    _readonly = {'readonly': True}

    web_user = fields.Many2One(
        'web.user', "Web User", required=True, readonly=True,
        ondelete='CASCADE')
    party = fields.Many2One(
        'party.party', "Family Member", required=True, readonly=True,
        ondelete='RESTRICT')
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, readonly=True,
        ondelete='CASCADE')
    region = fields.Many2One(
        'elder.region', "Region", readonly=True, ondelete='RESTRICT')
    name = fields.Char("Name", required=True, readonly=True)
    relationship = fields.Selection(
        RELATIONSHIPS, "Relationship", required=True, readonly=True)
    phone = encrypted(fields.Char("Phone", readonly=True))
    phone_enc = fields.Char("Phone (Encrypted)", readonly=True)
    method = fields.Selection(METHODS, "Verification", required=True,
        readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    requested_at = fields.Timestamp("Requested At", readonly=True)
    code_hash = fields.Char("Code (Hash)", readonly=True)
    code_expires = fields.Timestamp("Code Expires", readonly=True)
    code_phone = fields.Char("Code Sent To", readonly=True,
        help="The masked phone the code went to.")
    code_given_by = fields.Selection(GIVEN_BY, "Code Holder", readonly=True)
    attempts = fields.Integer("Wrong Codes", readonly=True)
    staff_given_by = fields.Selection(GIVEN_BY, "Consent Given By",
        states={'readonly': Eval('state') != 'pending',
            'invisible': Eval('method') != 'staff'},
        help="Who agreed on the phone or in person.")
    staff_note = fields.Text("Verification Note",
        states={'readonly': Eval('state') != 'pending'},
        help="How the community or the hotline verified the request "
        "(call time, who answered).")
    consent = fields.Many2One(
        'security.consent', "Consent", readonly=True, ondelete='RESTRICT')
    contact = fields.Many2One(
        'elder.contact', "Contact", readonly=True, ondelete='SET NULL')
    created_contact = fields.Boolean("Contact Created", readonly=True)
    previous_party = fields.Many2One(
        'party.party', "Previous Contact Party", readonly=True,
        ondelete='SET NULL')
    verified_at = fields.Timestamp("Verified At", readonly=True)
    verified_by = fields.Many2One('res.user', "Verified By", readonly=True)
    revoked_at = fields.Timestamp("Revoked At", readonly=True)
    revoke_reason = fields.Char("Revoke Reason",
        states={'readonly': Eval('state') != 'active'})

    del _readonly

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.web_user, Index.Range()),
                    (t.state, Index.Equality())),
                Index(t, (t.elder, Index.Range()),
                    (t.state, Index.Equality())),
                })
        cls._order = [('requested_at', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('pending', 'active'),
            ('pending', 'rejected'),
            ('active', 'revoked'),
            }
        cls._buttons.update({
                'confirm': {
                    'invisible': ((Eval('state') != 'pending')
                        | (Eval('method') != 'staff')),
                    'depends': ['state', 'method'],
                    },
                'reject': {
                    'invisible': Eval('state') != 'pending',
                    'depends': ['state'],
                    },
                'revoke': {
                    'invisible': Eval('state') != 'active',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'pending'

    @staticmethod
    def default_attempts():
        return 0

    @staticmethod
    def default_created_contact():
        return False

    @classmethod
    def encrypted_normalize(cls, name, value):
        return normalize_encrypted(name, value)

    def get_rec_name(self, name):
        return '%s → %s' % (self.name, self.elder.rec_name)

    # --- requests (family side, server code) ---------------------------------

    @classmethod
    def code_holder(cls, elder):
        """(phone, 'subject' or 'guardian', guardian contact) the SMS code
        goes to, or None when the older person has no registered phone"""
        if elder.phone:
            return elder.phone, 'subject', None
        guardian = elder.guardian
        if guardian and guardian.phone:
            return guardian.phone, 'guardian', guardian
        return None

    @classmethod
    def hash_code(cls, binding_id, code):
        return Keyring.get().blind_index(
            'wechat.binding.code:%s' % binding_id, code)

    def send_code(self):
        "Send a new code to the older person's registered phone"
        pool = Pool()
        Message = pool.get('wechat.sms.message')
        Configuration = pool.get('wechat.configuration')
        config = Configuration(1)
        phone, given_by, _ = self.code_holder(self.elder)
        code = '%06d' % secrets.randbelow(10**6)
        text = gettext('elder_wechat.msg_sms_binding_code',
            family=self.name, elder=self.elder.name, code=code,
            minutes=config.code_ttl)
        Message.send(phone, text, 'binding_code')
        self.write([self], {
                'code_hash': self.hash_code(self.id, code),
                'code_expires': dt.datetime.now() + dt.timedelta(
                    minutes=config.code_ttl),
                'code_phone': mask_value('phone', phone),
                'code_given_by': given_by,
                'attempts': 0,
                })
        return code

    def check_code(self, code):
        "True when code is this request's valid code (constant time)"
        if not self.code_hash or not isinstance(code, str):
            return False
        if not self.code_expires or self.code_expires < dt.datetime.now():
            return False
        import hmac
        return hmac.compare_digest(
            self.hash_code(self.id, code.strip()), self.code_hash)

    # --- activation ---------------------------------------------------------

    def _record_consent(self, given_by, channel):
        pool = Pool()
        Consent = pool.get('security.consent')
        Party = pool.get('party.party')
        Contact = pool.get('elder.contact')
        Configuration = pool.get('wechat.configuration')
        config = Configuration(1)
        guardian_party = None
        if given_by == 'guardian':
            guardian = self.elder.guardian
            if guardian is None:
                raise BindingError(gettext(
                        'elder_wechat.msg_binding_no_guardian',
                        elder=self.elder.rec_name))
            if not guardian.party:
                party, = Party.create([{'name': guardian.name}])
                Contact.write([guardian], {'party': party.id})
                guardian = Contact(guardian.id)
            guardian_party = guardian.party.id
        with without_check_access():
            consent, = Consent.create([{
                        'party': self.elder.party.id,
                        'purpose': 'family_sharing',
                        'version': config.notice_version,
                        'given_by': given_by,
                        'guardian': guardian_party,
                        'channel': channel,
                        'note': gettext('elder_wechat.msg_consent_note',
                            family=self.name, binding=self.id),
                        }])
        return consent

    def _link_contact(self):
        "Link (or create) the elder.contact of the family member"
        Contact = Pool().get('elder.contact')
        with without_check_access():
            candidates = Contact.search([
                    ('elder', '=', self.elder.id),
                    ('phone', '=', self.phone),
                    ['OR', ('party', '=', None),
                        ('party', '=', self.party.id)],
                    ], limit=1)
            if candidates:
                contact, = candidates
                previous = contact.party
                Contact.write([contact], {'party': self.party.id})
                return contact, False, previous
            contact, = Contact.create([{
                        'elder': self.elder.id,
                        'name': self.name,
                        'relationship': self.relationship,
                        'phone': self.phone,
                        'party': self.party.id,
                        'is_emergency': False,
                        'note': gettext('elder_wechat.msg_contact_note'),
                        }])
        return contact, True, None

    @classmethod
    def activate(cls, bindings, given_by, channel):
        "Record the consent, link the contact, make the bindings active"
        from trytond.modules.elder_security.separation import audit_log
        now = dt.datetime.now().replace(microsecond=0)
        user = Transaction().user or None
        for binding in bindings:
            consent = binding._record_consent(given_by, channel)
            contact, created, previous = binding._link_contact()
            cls.write([binding], {
                    'state': 'active', 'consent': consent.id,
                    'contact': contact.id, 'created_contact': created,
                    'previous_party': previous.id if previous else None,
                    'verified_at': now, 'verified_by': user,
                    'code_hash': None,
                    })
            audit_log('other', binding, details={
                    'action': 'family_binding', 'elder': binding.elder.id,
                    'method': binding.method, 'consent': consent.id})

    def _unlink_contact(self):
        Contact = Pool().get('elder.contact')
        contact = self.contact
        if not contact:
            return
        with without_check_access():
            if self.created_contact:
                Contact.delete([contact])
            elif contact.party == self.party:
                Contact.write([contact], {'party': (
                            self.previous_party.id
                            if self.previous_party else None)})

    @classmethod
    def revoke_bindings(cls, bindings, reason=None, withdraw=True):
        """Revoke active bindings: unlink the contact, withdraw the consent
        (unless it is being withdrawn already)"""
        from trytond.modules.elder_security.separation import audit_log
        Consent = Pool().get('security.consent')
        now = dt.datetime.now().replace(microsecond=0)
        bindings = [b for b in bindings if b.state == 'active']
        for binding in bindings:
            binding._unlink_contact()
            if withdraw and binding.consent and not (
                    binding.consent.withdrawn_at):
                with without_check_access(), Transaction().set_context(
                        _wechat_revoking=True):
                    Consent.withdraw_consents([binding.consent])
            cls.write([binding], {
                    'state': 'revoked', 'revoked_at': now,
                    'contact': None,
                    'revoke_reason': reason or binding.revoke_reason,
                    })
            audit_log('other', binding, details={
                    'action': 'family_unbinding', 'elder': binding.elder.id,
                    'reason': reason})
        return bindings

    # --- staff buttons ---------------------------------------------------------

    @classmethod
    @ModelView.button
    def confirm(cls, bindings):
        "The community or the hotline verified the request by phone"
        for binding in bindings:
            if binding.state != 'pending' or binding.method != 'staff':
                continue
            if not (binding.staff_note or '').strip() or (
                    not binding.staff_given_by):
                raise BindingError(gettext(
                        'elder_wechat.msg_binding_staff_note',
                        binding=binding.rec_name))
            cls.activate([binding], binding.staff_given_by, 'phone')
            binding.notify_family('binding_confirmed')

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, bindings):
        cls.write(bindings, {'code_hash': None})

    @classmethod
    @ModelView.button
    def revoke(cls, bindings):
        cls.revoke_bindings(bindings)

    def notify_family(self, event):
        Notification = Pool().get('wechat.notification')
        Notification.for_binding(self, event)

    @classmethod
    def active_elders(cls, web_user):
        "The ids of the older people the web user is bound to"
        with without_check_access():
            return sorted({b.elder.id for b in cls.search([
                            ('web_user', '=', web_user.id),
                            ('state', '=', 'active'),
                            ])})


class Consent(metaclass=PoolMeta):
    __name__ = 'security.consent'

    @classmethod
    def withdraw_consents(cls, consents, when=None):
        consents = super().withdraw_consents(consents, when=when)
        if consents and not Transaction().context.get('_wechat_revoking'):
            Binding = Pool().get('wechat.binding')
            with without_check_access():
                bindings = Binding.search([
                        ('consent', 'in', [c.id for c in consents]),
                        ('state', '=', 'active'),
                        ])
                Binding.revoke_bindings(bindings, reason=gettext(
                        'elder_wechat.msg_revoked_consent'), withdraw=False)
        return consents


class Elder(metaclass=PoolMeta):
    __name__ = 'elder.elder'

    @classmethod
    def write(cls, *args):
        super().write(*args)
        # Moved away or deceased: the families' bindings end
        elders = sum(args[::2], [])
        gone = [e for e in elders if e.state != 'active']
        if gone:
            Binding = Pool().get('wechat.binding')
            with without_check_access():
                bindings = Binding.search([
                        ('elder', 'in', [e.id for e in gone]),
                        ('state', '=', 'active')])
                if bindings:
                    Binding.revoke_bindings(bindings, reason=gettext(
                            'elder_wechat.msg_revoked_elder_state'))

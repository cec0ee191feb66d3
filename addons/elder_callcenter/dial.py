# This file is part of the eldercare platform. See LICENSE.
"""Click-to-dial: a button in the web client writes a dial request; the CTI
adapter (its own process) picks it up (PostgreSQL NOTIFY on commit, and a
poll), asks the switch to ring the agent's seat phone and connect it to the
number (Kamailio: an out-of-dialog REFER to the seat phone), and marks it
sent. The call itself then arrives as an outbound call.call."""
from trytond.bus import notify  # noqa: F401 (same NOTIFY mechanism)
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.modules.elder_base.elder import encrypted
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.transaction import Transaction

from .agent import utcnow

STATES = [
    ('pending', "Pending"),
    ('sent', "Sent to the Switch"),
    ('failed', "Failed"),
    ]
CHANNEL = 'elder_callcenter_dial'


class Dial(EncryptedMixin, ModelSQL, ModelView):
    "Click-to-dial Request"
    __name__ = 'call.dial'
    _encrypted_fields = {'target': 'phone'}
    _sensitivity = {'target': 'personal', 'elder': 'personal'}
    agent = fields.Many2One('call.agent', "Agent", required=True,
        readonly=True, ondelete='CASCADE')
    seat = fields.Many2One('call.seat', "Seat", required=True, readonly=True,
        ondelete='CASCADE')
    target = encrypted(fields.Char("Number", readonly=True))
    target_enc = fields.Char("Number (Encrypted)", readonly=True)
    elder = fields.Many2One('elder.elder', "Older Person", readonly=True,
        ondelete='SET NULL')
    reference = fields.Char("Reference", readonly=True)
    requested_at = fields.Timestamp("Requested At", readonly=True)
    sent_at = fields.Timestamp("Sent At", readonly=True)
    state = fields.Selection(STATES, "State", readonly=True, required=True)
    error = fields.Char("Error", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.add(Index(t, (t.state, Index.Equality(
                        cardinality='low')), where=t.state == 'pending'))
        cls._order = [('requested_at', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_state():
        return 'pending'

    @staticmethod
    def default_requested_at():
        return utcnow()

    @classmethod
    def on_modification(cls, mode, dials, field_names=None):
        super().on_modification(mode, dials, field_names=field_names)
        if mode == 'create':
            transaction = Transaction()
            if transaction.database.has_channel():
                # wakes the adapter up when this transaction commits
                cursor = transaction.connection.cursor()
                cursor.execute('NOTIFY "%s"' % CHANNEL)

    @classmethod
    def pending(cls, limit=50):
        return cls.search([('state', '=', 'pending')],
            order=[('id', 'ASC')], limit=limit)

    @classmethod
    def mark(cls, dials, state, error=None):
        cls.write(dials, {'state': state, 'sent_at': utcnow(),
                'error': error})

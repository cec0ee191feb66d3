# This file is part of the eldercare platform. See LICENSE.
"""The time bank (时间银行, standard §7.2.5): volunteers earn the hours they
served, may transfer them to older people of their family, and the hours
are redeemed for services.

Rules the ledger keeps, in the database and not only in Python:
- an entry is never changed or deleted; a balance is the sum of its
  account's entries, kept on the account by one atomic UPDATE per entry;
- a balance never goes negative: the account row is locked (SELECT … FOR
  UPDATE) before the check, and a CHECK constraint (balance >= 0) refuses
  what would slip through;
- a transfer writes its two entries in one transaction (hours conserved);
- approved volunteer hours are earned once (unique origin), and a service
  order is redeemed once (unique order on redemptions)."""
from decimal import Decimal

from sql import Literal
from sql.aggregate import Sum

from trytond.i18n import gettext
from trytond.model import (
    Check, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction, without_check_access

from .common import lock_rows, next_number, refuse_duplicate
from .exceptions import TimeBankError

ENTRY_KINDS = [
    ('earn', "Earned"),
    ('transfer_out', "Transferred out"),
    ('transfer_in', "Transferred in"),
    ('redeem', "Redeemed"),
    ]
HOURS = (16, 1)


class Account(ModelSQL, ModelView):
    "Time-bank account"
    __name__ = 'timebank.account'
    _sensitivity = {'balance': 'personal'}
    volunteer = fields.Many2One('volunteer.volunteer', "Volunteer",
        readonly=True, ondelete='RESTRICT')
    elder = fields.Many2One('elder.elder', "Older Person", readonly=True,
        ondelete='RESTRICT')
    region = fields.Function(fields.Many2One('elder.region', "Region"),
        'get_region', searcher='search_region')
    balance = fields.Numeric("Balance", digits=HOURS, readonly=True)
    entries = fields.One2Many('timebank.entry', 'account', "Entries",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('balance_positive', Check(t, t.balance >= 0),
                'elder_community.msg_timebank_negative'),
            ('volunteer_uniq', Unique(t, t.volunteer),
                'elder_community.msg_timebank_account_unique'),
            ('elder_uniq', Unique(t, t.elder),
                'elder_community.msg_timebank_account_unique'),
            ('one_owner', Check(t,
                    (t.volunteer == None) != (t.elder == None)),  # noqa: E711
                'elder_community.msg_timebank_one_owner'),
            ]

    @staticmethod
    def default_balance():
        return Decimal(0)

    def get_rec_name(self, name):
        owner = self.volunteer or self.elder
        return owner.rec_name if owner else str(self.id)

    def get_region(self, name):
        owner = self.volunteer or self.elder
        return owner.region.id

    @classmethod
    def search_region(cls, name, clause):
        rest = clause[0][len(name):]
        return ['OR',
            ('volunteer.region' + rest,) + tuple(clause[1:]),
            ('elder.region' + rest,) + tuple(clause[1:]),
            ]

    @classmethod
    def check_modification(cls, mode, accounts, values=None, external=False):
        super().check_modification(
            mode, accounts, values=values, external=external)
        if mode == 'delete' or (mode == 'write' and external):
            raise TimeBankError(gettext(
                    'elder_community.msg_timebank_immutable'))

    @classmethod
    @without_check_access
    def of(cls, owner):
        "The account of a volunteer or an older person, created when missing"
        field = 'volunteer' if owner.__name__ == 'volunteer.volunteer' \
            else 'elder'
        accounts = cls.search([(field, '=', owner.id)], limit=1)
        if accounts:
            return accounts[0]
        account, = cls.create([{field: owner.id}])
        return account

    def totals(self):
        "{kind: signed sum of entries, 'balance': sum of all}"
        pool = Pool()
        Entry = pool.get('timebank.entry')
        e = Entry.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*e.select(e.kind, Sum(e.hours),
                where=e.account == self.id, group_by=[e.kind]))
        totals = {k: Decimal(0) for k, _ in ENTRY_KINDS}
        totals.update({k: v for k, v in cursor})
        totals['balance'] = sum(totals[k] for k, _ in ENTRY_KINDS)
        return totals

    @classmethod
    @without_check_access
    def post(cls, account, kind, hours, origin, counterpart=None, note=None):
        """Add an entry of signed hours to the account and return it.

        The account row is locked first, so concurrent postings on it are
        serialised; a negative result is refused with a translated error
        and nothing is written."""
        pool = Pool()
        Entry = pool.get('timebank.entry')
        hours = Decimal(hours).quantize(Decimal('0.1'))
        if Entry.search([
                    ('account', '=', account.id),
                    ('kind', '=', kind),
                    ('origin', '=', str(origin)),
                    ], limit=1):
            raise TimeBankError(gettext(
                    'elder_community.msg_timebank_entry_unique'))
        lock_rows(cls, [account.id])
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(table.balance,
                where=table.id == account.id))
        balance, = cursor.fetchone()
        if balance + hours < 0:
            raise TimeBankError(gettext(
                    'elder_community.msg_timebank_insufficient',
                    account=account.rec_name, balance='%.1f' % balance,
                    hours='%.1f' % -hours))
        cursor.execute(*table.update([table.balance],
                [table.balance + hours], where=table.id == account.id,
                returning=[table.balance]))
        new_balance, = cursor.fetchone()
        # The balance changed behind the ORM: drop the cached reads.
        transaction = Transaction()
        transaction.counter += 1
        for cache in transaction.cache.values():
            if cls.__name__ in cache:
                cache[cls.__name__].pop(account.id, None)
        entry, = Entry.create([{
                    'account': account.id,
                    'kind': kind,
                    'hours': hours,
                    'balance': new_balance,
                    'origin': str(origin),
                    'counterpart': counterpart.id if counterpart else None,
                    'note': note,
                    }])
        return entry


class Entry(ModelSQL, ModelView):
    "Time-bank ledger entry"
    __name__ = 'timebank.entry'
    _sensitivity = {'balance': 'personal', 'hours': 'personal'}
    account = fields.Many2One('timebank.account', "Account", required=True,
        readonly=True, ondelete='RESTRICT')
    date = fields.Timestamp("Date", required=True, readonly=True)
    kind = fields.Selection(ENTRY_KINDS, "Kind", required=True,
        readonly=True)
    hours = fields.Numeric("Hours", digits=HOURS, required=True,
        readonly=True, help="Positive when earned or received.")
    balance = fields.Numeric("Balance After", digits=HOURS, readonly=True)
    origin = fields.Reference("Origin", selection=[
            (None, ''),
            ('volunteer.hours', "Volunteer Hours"),
            ('timebank.transfer', "Transfer"),
            ('timebank.redemption', "Redemption"),
            ], readonly=True, required=True)
    counterpart = fields.Many2One('timebank.account', "Counterpart",
        readonly=True, ondelete='RESTRICT')
    user = fields.Many2One('res.user', "User", readonly=True)
    note = fields.Char("Note", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('account')
        t = cls.__table__()
        cls._sql_constraints += [
            # An origin moves an account once per kind: the same approved
            # hours are not earned twice, a redemption is not taken twice.
            ('origin_uniq', Unique(t, t.account, t.kind, t.origin),
                'elder_community.msg_timebank_entry_unique'),
            ('sign', Check(t,
                    ((t.kind.in_(['earn', 'transfer_in']))
                        & (t.hours > 0))
                    | ((t.kind.in_(['transfer_out', 'redeem']))
                        & (t.hours < 0))),
                'elder_community.msg_timebank_entry_sign'),
            ]
        cls._sql_indexes.add(
            Index(t, (t.account, Index.Range()), (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def preprocess_values(cls, mode, values):
        import datetime as dt
        values = super().preprocess_values(mode, values)
        if mode == 'create':
            values.setdefault('date', dt.datetime.now())
            values.setdefault('user', Transaction().user)
        return values

    @classmethod
    def check_modification(cls, mode, entries, values=None, external=False):
        super().check_modification(
            mode, entries, values=values, external=external)
        if mode in {'write', 'delete'}:
            raise TimeBankError(gettext(
                    'elder_community.msg_timebank_immutable'))


class Transfer(Workflow, ModelSQL, ModelView):
    "Transfer of time-bank hours to an older person of the family"
    __name__ = 'timebank.transfer'
    _sensitivity = {'elder': 'personal', 'hours': 'personal'}
    _draft = {'readonly': Eval('state') != 'draft'}
    number = fields.Char("Number", readonly=True)
    volunteer = fields.Many2One('volunteer.volunteer', "Volunteer",
        required=True, ondelete='RESTRICT', states=_draft)
    elder = fields.Many2One('elder.elder', "Older Person", required=True,
        ondelete='RESTRICT', states=_draft,
        domain=[('id', 'in', Eval('family_elders', []))])
    family_elders = fields.Function(fields.Many2Many(
            'elder.elder', None, None, "Family"), 'on_change_with_family_elders')
    hours = fields.Numeric("Hours", digits=HOURS, required=True,
        domain=[('hours', '>', 0)], states=_draft)
    date = fields.Date("Date", required=True, states=_draft)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", required=True, readonly=True)
    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @fields.depends('volunteer')
    def on_change_with_family_elders(self, name=None):
        if self.volunteer:
            return [e.id for e in self.volunteer.family_elders]
        return []

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            values['number'] = next_number('sequence_transfer')
        return values

    @classmethod
    def check_modification(cls, mode, transfers, values=None, external=False):
        super().check_modification(
            mode, transfers, values=values, external=external)
        if mode == 'delete':
            for transfer in transfers:
                if transfer.state != 'draft':
                    raise TimeBankError(gettext(
                            'elder_community.msg_timebank_immutable'))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, transfers):
        "Both entries in the same transaction: hours are conserved"
        pool = Pool()
        Account = pool.get('timebank.account')
        lock_rows(cls, [t.id for t in transfers])
        for transfer in transfers:
            if cls(transfer.id).state != 'draft':
                raise TimeBankError(gettext(
                        'elder_community.msg_timebank_already_done',
                        record=transfer.rec_name))
            if transfer.elder not in transfer.volunteer.family_elders:
                raise TimeBankError(gettext(
                        'elder_community.msg_timebank_not_family',
                        elder=transfer.elder.rec_name,
                        volunteer=transfer.volunteer.rec_name))
            source = Account.of(transfer.volunteer)
            target = Account.of(transfer.elder)
            Account.post(source, 'transfer_out', -transfer.hours, transfer,
                counterpart=target)
            Account.post(target, 'transfer_in', transfer.hours, transfer,
                counterpart=source)


class Redemption(Workflow, ModelSQL, ModelView):
    "Redemption of time-bank hours for a service"
    __name__ = 'timebank.redemption'
    _sensitivity = {'hours': 'personal'}
    _draft = {'readonly': Eval('state') != 'draft'}
    number = fields.Char("Number", readonly=True)
    account = fields.Many2One('timebank.account', "Account", required=True,
        ondelete='RESTRICT', states=_draft)
    order = fields.Many2One('service.order', "Service Order",
        ondelete='RESTRICT', states=_draft,
        help="The service order paid with the hours: it is redeemed once.")
    service = fields.Char("Service", states={
            'readonly': Eval('state') != 'draft',
            'required': ~Bool(Eval('order')),
            })
    hours = fields.Numeric("Hours", digits=HOURS, required=True,
        domain=[('hours', '>', 0)], states=_draft)
    date = fields.Date("Date", required=True, states=_draft)
    state = fields.Selection([
            ('draft', "Draft"),
            ('done', "Done"),
            ], "State", required=True, readonly=True)
    del _draft

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('order_uniq', Unique(t, t.order),
                'elder_community.msg_timebank_order_redeemed'),
            ]
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'done')}
        cls._buttons.update({
                'do': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @classmethod
    def default_date(cls):
        return Pool().get('ir.date').today()

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if mode == 'create' and values.get('order'):
            refuse_duplicate(cls, [('order', '=', values['order'])],
                'msg_timebank_order_redeemed', TimeBankError)
        if mode == 'create' and not values.get('number'):
            values['number'] = next_number('sequence_redemption')
        return values

    @classmethod
    def check_modification(cls, mode, redemptions, values=None,
            external=False):
        super().check_modification(
            mode, redemptions, values=values, external=external)
        if mode == 'delete':
            for redemption in redemptions:
                if redemption.state != 'draft':
                    raise TimeBankError(gettext(
                            'elder_community.msg_timebank_immutable'))

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def do(cls, redemptions):
        """Take the hours from the account. The redemption rows are locked
        and their state read again, so the same redemption pressed twice at
        once is taken once; the entry's unique origin is the last guard"""
        pool = Pool()
        Account = pool.get('timebank.account')
        lock_rows(cls, [r.id for r in redemptions])
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        for redemption in redemptions:
            cursor.execute(*table.select(table.state,
                    where=table.id == redemption.id))
            state, = cursor.fetchone()
            if state != 'draft':
                raise TimeBankError(gettext(
                        'elder_community.msg_timebank_already_done',
                        record=redemption.rec_name))
            Account.post(redemption.account, 'redeem', -redemption.hours,
                redemption, note=redemption.service or (
                    redemption.order.rec_name if redemption.order else None))

    def get_rec_name(self, name):
        return self.number or str(self.id)


def ledger_totals():
    """{'earned', 'approved', 'balances', 'transfers'}: the figures whose
    equalities are the ledger's invariants (used by the tests and the
    statement)"""
    pool = Pool()
    Entry = pool.get('timebank.entry')
    Account = pool.get('timebank.account')
    Hours = pool.get('volunteer.hours')
    e = Entry.__table__()
    a = Account.__table__()
    h = Hours.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*e.select(e.kind, Sum(e.hours), group_by=[e.kind]))
    by_kind = {k: Decimal(0) for k, _ in ENTRY_KINDS}
    by_kind.update(dict(cursor))
    cursor.execute(*a.select(Sum(a.balance)))
    balances, = cursor.fetchone()
    cursor.execute(*h.select(Sum(h.hours),
            where=h.state == Literal('approved')))
    approved, = cursor.fetchone()
    return {
        'by_kind': by_kind,
        'balances': balances or Decimal(0),
        'approved': approved or Decimal(0),
        }

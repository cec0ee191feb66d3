# This file is part of the eldercare platform. See LICENSE.
"""Monthly settlement statements (结算单) per provider and district, and the
settlement runs (queued jobs) that produce them."""
import datetime as dt
import json
from collections import defaultdict
from decimal import Decimal

from sql.aggregate import Count, Sum

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from . import pricing
from .exceptions import SeparationOfDutiesError, SettlementError
from .line import month_end, month_start

STATES = [
    ('draft', "Draft"),
    ('review', "Provider Review"),
    ('disputed', "Disputed"),
    ('accepted', "Accepted by Provider"),
    ('checked', "Approved by Supervisor"),
    ('approved', "Approved by Finance"),
    ('paid', "Paid"),
    ]
# Fields a user may write by hand, by state; the rest is computed.
WRITABLE = {
    'review': {'dispute_reason'},
    'disputed': {'resolution'},
    }


def _now():
    return dt.datetime.now().replace(microsecond=0)


class Statement(Workflow, ModelSQL, ModelView):
    "Settlement statement (结算单)"
    __name__ = 'settlement.statement'
    # A supplier invoice, not a voice recording (tests/test_sensitivity.py)
    _sensitivity = {'invoice': 'internal', 'invoice_state': 'internal'}

    number = fields.Char("Number", readonly=True)
    company = fields.Many2One(
        'company.company', "Company", required=True, readonly=True,
        ondelete='RESTRICT')
    period = fields.Date(
        "Period", required=True, readonly=True,
        help="First day of the settled month.")
    provider = fields.Many2One(
        'elder.provider', "Provider", required=True, readonly=True,
        ondelete='RESTRICT')
    district = fields.Many2One(
        'elder.region', "District", required=True, readonly=True,
        ondelete='RESTRICT')
    lines = fields.One2Many(
        'settlement.line', 'statement', "Lines", readonly=True)
    line_count = fields.Function(
        fields.Integer("Services"), 'get_totals')
    amount = fields.Function(
        fields.Numeric("Amount", digits=(16, 2)), 'get_totals')
    subsidy_amount = fields.Function(
        fields.Numeric("Subsidy", digits=(16, 2)), 'get_totals')
    self_pay_amount = fields.Function(
        fields.Numeric("Self-pay", digits=(16, 2)), 'get_totals')
    subsidy_hours = fields.Function(
        fields.Numeric("Subsidised Hours", digits=(16, 2)), 'get_totals')
    dispute_reason = fields.Text(
        "Dispute Reason",
        states={'readonly': Eval('state') != 'review'},
        help="What the provider disputes: fill it in, then press Dispute.")
    resolution = fields.Text(
        "Resolution",
        states={'readonly': Eval('state') != 'disputed'},
        help="How the supervisor settled the dispute.")
    sent_by = fields.Many2One('res.user', "Sent By", readonly=True)
    sent_at = fields.Timestamp("Sent At", readonly=True)
    accepted_by = fields.Many2One(
        'res.user', "Accepted By", readonly=True,
        help="The provider's user who accepted the statement.")
    accepted_at = fields.Timestamp("Accepted At", readonly=True)
    checked_by = fields.Many2One(
        'res.user', "Supervisor Approval By", readonly=True)
    checked_at = fields.Timestamp("Supervisor Approval At", readonly=True)
    approved_by = fields.Many2One(
        'res.user', "Finance Approval By", readonly=True)
    approved_at = fields.Timestamp("Finance Approval At", readonly=True)
    invoice = fields.Many2One(
        'account.invoice', "Supplier Invoice", readonly=True,
        ondelete='RESTRICT')
    invoice_state = fields.Function(
        fields.Selection('get_invoice_states', "Invoice State"),
        'get_invoice_state')
    paid_at = fields.Date("Paid On", readonly=True)
    history = fields.Text("History", readonly=True)
    state = fields.Selection(
        STATES, "State", readonly=True, required=True, sort=False)
    state_string = state.translated('state')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('period_provider_district_uniq',
                Unique(t, t.period, t.provider, t.district),
                'elder_settlement.msg_statement_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                Index(t, (t.provider, Index.Range()),
                    (t.period, Index.Range())),
                })
        cls._order = [('period', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'review'),
            ('review', 'accepted'),
            ('review', 'disputed'),
            ('disputed', 'draft'),
            ('accepted', 'checked'),
            ('checked', 'approved'),
            ('approved', 'paid'),
            }
        buttons = {
            'send': ['draft'],
            'accept': ['review'],
            'dispute': ['review'],
            'reopen': ['disputed'],
            'check': ['accepted'],
            'approve': ['checked'],
            'pay': ['approved'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }
        cls._buttons['dispute']['readonly'] = ~Eval('dispute_reason')
        cls._buttons['dispute']['depends'].append('dispute_reason')
        cls._buttons['reopen']['readonly'] = ~Eval('resolution')
        cls._buttons['reopen']['depends'].append('resolution')

    @staticmethod
    def default_state():
        return 'draft'

    @classmethod
    def get_invoice_states(cls):
        Invoice = Pool().get('account.invoice')
        return [(None, '')] + Invoice.fields_get(
            ['state'])['state']['selection']

    def get_invoice_state(self, name):
        return self.invoice.state if self.invoice else None

    def get_rec_name(self, name):
        return '%s %s %s' % (
            self.number or '', self.provider.rec_name,
            self.period.strftime('%Y-%m'))

    @classmethod
    def search_rec_name(cls, name, clause):
        _, operator, operand, *extra = clause
        bool_op = 'AND' if operator.startswith(('!', 'not ')) else 'OR'
        return [bool_op,
            ('number', operator, operand, *extra),
            ('provider.name', operator, operand, *extra),
            ]

    @classmethod
    def get_totals(cls, statements, names):
        pool = Pool()
        Line = pool.get('settlement.line')
        line = Line.__table__()
        cursor = Transaction().connection.cursor()
        ids = [s.id for s in statements]
        zero = Decimal('0.00')
        result = {n: {i: (0 if n == 'line_count' else zero) for i in ids}
            for n in names}
        cursor.execute(*line.select(
                line.statement, Count(line.id), Sum(line.amount),
                Sum(line.subsidy_amount), Sum(line.self_pay_amount),
                Sum(line.subsidy_hours),
                where=line.statement.in_(ids) & (line.state == 'statement'),
                group_by=[line.statement]))
        for statement, count, amount, subsidy, self_pay, hours in cursor:
            values = {
                'line_count': count,
                'amount': pricing.money(amount or 0),
                'subsidy_amount': pricing.money(subsidy or 0),
                'self_pay_amount': pricing.money(self_pay or 0),
                'subsidy_hours': pricing.hours(hours or 0),
                }
            for name in names:
                result[name][statement] = values[name]
        return result

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            values['number'] = Sequence(ModelData.get_id(
                    'elder_settlement', 'sequence_statement')).get()
        return values

    @classmethod
    def check_modification(cls, mode, statements, values=None,
            external=False):
        super().check_modification(
            mode, statements, values=values, external=external)
        if not external:
            return
        if mode == 'create':
            raise SettlementError(gettext(
                    'elder_settlement.msg_statement_create'))
        if mode == 'delete':
            for statement in statements:
                if statement.state != 'draft' or statement.lines:
                    raise SettlementError(gettext(
                            'elder_settlement.msg_statement_delete',
                            statement=statement.rec_name))
        if mode == 'write':
            for statement in statements:
                allowed = WRITABLE.get(statement.state, set())
                if set(values) - allowed:
                    raise SettlementError(gettext(
                            'elder_settlement.msg_statement_computed',
                            statement=statement.rec_name))

    def _log(self, action, note=None):
        history = json.loads(self.history) if self.history else []
        history.append({
                'at': _now().isoformat(), 'user': Transaction().user,
                'action': action, 'note': note})
        return json.dumps(history, ensure_ascii=False)

    # --- settlement --------------------------------------------------------

    @classmethod
    def settle(cls, period):
        """Price the confirmed services up to the end of the month and put
        the pending lines into the draft statements of that month.

        Idempotent: an order is priced once (a unique line per order), a
        statement is unique per month, provider and district, and only draft
        statements take lines, so a second run changes nothing unless new
        records came in. A line whose statement for the month has already
        been sent stays pending: the next month's run takes it (late
        records go to the next period). Return the statements changed and
        the lines priced."""
        pool = Pool()
        Line = pool.get('settlement.line')
        Config = pool.get('settlement.configuration')
        period = month_start(period)
        end = month_end(period)
        config = Config(1)
        if not config.company:
            raise SettlementError(gettext(
                    'elder_settlement.msg_no_company'))
        priced = Line.collect(end)
        pending = Line.search([
                ('state', '=', 'pending'),
                ('statement', '=', None),
                ('service_date', '<=', end),
                ], order=[('service_date', 'ASC'), ('id', 'ASC')])
        groups = defaultdict(list)
        for line in pending:
            groups[(line.provider.id, line.district.id)].append(line)
        changed = []
        for (provider, district), lines in sorted(groups.items()):
            statements = cls.search([
                    ('period', '=', period),
                    ('provider', '=', provider),
                    ('district', '=', district),
                    ])
            if statements:
                statement, = statements
                if statement.state != 'draft':
                    continue
            else:
                statement, = cls.create([{
                            'company': config.company.id,
                            'period': period,
                            'provider': provider,
                            'district': district,
                            }])
            Line.write(lines, {'state': 'statement', 'statement': statement})
            changed.append(statement)
        return changed, priced

    # --- workflow ----------------------------------------------------------

    @classmethod
    @ModelView.button
    @Workflow.transition('review')
    def send(cls, statements):
        "Send the statement to the provider for review"
        for statement in statements:
            if not statement.lines:
                raise SettlementError(gettext(
                        'elder_settlement.msg_statement_empty',
                        statement=statement.rec_name))
            statement.sent_by = Transaction().user
            statement.sent_at = _now()
            statement.dispute_reason = None
            statement.history = statement._log('send')
        cls.save(statements)

    @classmethod
    @ModelView.button
    @Workflow.transition('accepted')
    def accept(cls, statements):
        "The provider agrees with the statement"
        for statement in statements:
            statement.accepted_by = Transaction().user
            statement.accepted_at = _now()
            statement.history = statement._log('accept')
        cls.save(statements)

    @classmethod
    @ModelView.button
    @Workflow.transition('disputed')
    def dispute(cls, statements):
        "The provider disputes the statement, with the reason"
        for statement in statements:
            if not statement.dispute_reason:
                raise SettlementError(gettext(
                        'elder_settlement.msg_dispute_reason',
                        statement=statement.rec_name))
            statement.resolution = None
            statement.history = statement._log(
                'dispute', statement.dispute_reason)
        cls.save(statements)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def reopen(cls, statements):
        """The supervisor settles the dispute: the statement is a draft again
        (lines can be excluded, reviewed records added by a new run) and is
        sent again"""
        for statement in statements:
            if not statement.resolution:
                raise SettlementError(gettext(
                        'elder_settlement.msg_resolution_required',
                        statement=statement.rec_name))
            statement.history = statement._log(
                'reopen', statement.resolution)
        cls.save(statements)

    @classmethod
    @ModelView.button
    @Workflow.transition('checked')
    def check(cls, statements):
        "First approval: the region's supervisor"
        for statement in statements:
            statement.checked_by = Transaction().user
            statement.checked_at = _now()
            statement.history = statement._log('check')
        cls.save(statements)

    @classmethod
    @ModelView.button
    @Workflow.transition('approved')
    def approve(cls, statements):
        """Second approval: finance, by another person than the supervisor
        (separation of duties); creates and posts the supplier invoice"""
        user = Transaction().user
        for statement in statements:
            if statement.checked_by and statement.checked_by.id == user:
                raise SeparationOfDutiesError(gettext(
                        'elder_settlement.msg_same_approver',
                        statement=statement.rec_name))
        for statement in statements:
            statement.approved_by = user
            statement.approved_at = _now()
            statement.history = statement._log('approve')
            statement.invoice = statement._create_invoice()
        cls.save(statements)

    def _invoice_lines(self, config):
        pool = Pool()
        InvoiceLine = pool.get('account.invoice.line')
        by_type = defaultdict(lambda: [0, Decimal('0.00')])
        for line in self.lines:
            if line.state != 'statement' or not line.subsidy_amount:
                continue
            by_type[line.service_type][0] += 1
            by_type[line.service_type][1] += line.subsidy_amount
        lines = []
        for service_type, (count, subsidy) in sorted(
                by_type.items(), key=lambda i: i[0].code):
            account = config.account_for(service_type)
            if not account:
                raise SettlementError(gettext(
                        'elder_settlement.msg_no_expense_account',
                        service_type=service_type.rec_name))
            lines.append(InvoiceLine(
                    type='line',
                    account=account,
                    quantity=1,
                    unit_price=subsidy,
                    description=gettext(
                        'elder_settlement.msg_invoice_line',
                        service_type=service_type.rec_name,
                        period=self.period.strftime('%Y-%m'),
                        count=count)))
        return lines

    def _create_invoice(self):
        "Create and post the supplier invoice of the statement's subsidy"
        pool = Pool()
        Invoice = pool.get('account.invoice')
        Address = pool.get('party.address')
        Config = pool.get('settlement.configuration')
        Date = pool.get('ir.date')
        config = Config(1)
        with Transaction().set_context(company=self.company.id):
            lines = self._invoice_lines(config)
            if not lines:
                return None
            party = self.provider.party
            address = party.address_get(type='invoice')
            if not address:
                address = Address(party=party, street=self.provider.address)
                address.save()
            invoice = Invoice(
                type='in',
                company=self.company,
                party=party,
                invoice_address=address,
                currency=self.company.currency,
                invoice_date=Date.today(),
                reference=self.number,
                description=gettext(
                    'elder_settlement.msg_invoice_description',
                    provider=self.provider.rec_name,
                    district=self.district.rec_name,
                    period=self.period.strftime('%Y-%m')),
                lines=lines)
            if config.journal:
                invoice.journal = config.journal
            invoice.on_change_type()
            invoice.account = party.account_payable_used
            if not invoice.account:
                raise SettlementError(gettext(
                        'elder_settlement.msg_no_payable',
                        party=party.rec_name))
            invoice.save()
            Invoice.post([invoice])
        return invoice

    @classmethod
    @ModelView.button
    @Workflow.transition('paid')
    def pay(cls, statements):
        """Record the payment of the invoice from the treasury account
        (the configured payment method) and reconcile it"""
        pool = Pool()
        Invoice = pool.get('account.invoice')
        MoveLine = pool.get('account.move.line')
        Config = pool.get('settlement.configuration')
        Date = pool.get('ir.date')
        config = Config(1)
        for statement in statements:
            invoice = statement.invoice
            with Transaction().set_context(company=statement.company.id):
                today = Date.today()
                if invoice and invoice.state == 'posted':
                    if not config.payment_method:
                        raise SettlementError(gettext(
                                'elder_settlement.msg_no_payment_method'))
                    amount = invoice.amount_to_pay
                    lines = invoice.pay_invoice(
                        amount, config.payment_method, today,
                        description=statement.number)
                    invoice = Invoice(invoice.id)
                    to_reconcile = [l for l in invoice.lines_to_pay
                        if not l.reconciliation] + list(lines)
                    MoveLine.reconcile(to_reconcile)
                    Invoice.process([invoice])
            statement.paid_at = today
            statement.history = statement._log('pay')
        cls.save(statements)


class Run(Workflow, ModelSQL, ModelView):
    "Settlement run (结算批次)"
    __name__ = 'settlement.run'

    period = fields.Date(
        "Period", required=True,
        states={'readonly': Eval('state') != 'draft'},
        help="Any day of the month to settle.")
    state = fields.Selection([
            ('draft', "Draft"),
            ('queued', "Queued"),
            ('done', "Done"),
            ], "State", readonly=True, required=True, sort=False)
    started_by = fields.Many2One('res.user', "Started By", readonly=True)
    done_at = fields.Timestamp("Done At", readonly=True)
    priced = fields.Integer("Lines Priced", readonly=True)
    statements = fields.Many2Many(
        'settlement.run-settlement.statement', 'run', 'statement',
        "Statements Changed", readonly=True)
    alerts = fields.Integer("Alerts Raised", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('period', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {('draft', 'queued'), ('queued', 'done')}
        cls._buttons.update({
                'run': {
                    'invisible': Eval('state') != 'draft',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'draft'

    @classmethod
    def default_period(cls):
        today = Pool().get('ir.date').today()
        return month_start(month_start(today) - dt.timedelta(days=1))

    @classmethod
    def preprocess_values(cls, mode, values):
        values = super().preprocess_values(mode, values)
        if values.get('period'):
            values['period'] = month_start(values['period'])
        return values

    def get_rec_name(self, name):
        return self.period.strftime('%Y-%m')

    @classmethod
    @ModelView.button
    @Workflow.transition('queued')
    def run(cls, runs):
        """Queue the settlement: a trytond worker runs it when one is
        configured ([queue] worker), else it runs after the commit"""
        cls.write(runs, {'started_by': Transaction().user})
        cls.__queue__.process(runs)

    @classmethod
    def process(cls, runs):
        pool = Pool()
        Statement = pool.get('settlement.statement')
        Alert = pool.get('settlement.alert')
        for run in runs:
            run = cls(run.id)
            if run.state == 'done':
                continue
            changed, priced = Statement.settle(run.period)
            alerts = Alert.detect(run.period)
            cls.write([run], {
                    'priced': len(priced),
                    'statements': [('add', [s.id for s in changed])],
                    'alerts': len(alerts),
                    'done_at': _now(),
                    })
            cls._done([run])

    @classmethod
    @Workflow.transition('done')
    def _done(cls, runs):
        pass

    @classmethod
    def cron_settle(cls):
        "Settle the previous month (the monthly schedule)"
        run, = cls.create([{}])
        cls.write([run], {'state': 'queued'})
        cls.process([run])


class RunStatement(ModelSQL):
    "Settlement run - Statement"
    __name__ = 'settlement.run-settlement.statement'
    run = fields.Many2One(
        'settlement.run', "Run", required=True, ondelete='CASCADE')
    statement = fields.Many2One(
        'settlement.statement', "Statement", required=True,
        ondelete='CASCADE')

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('run')

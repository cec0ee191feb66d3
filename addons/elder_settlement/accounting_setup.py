# This file is part of the eldercare platform. See LICENSE.
"""Accounting setup of the operating civil-affairs body for the subsidy
funds: the chart of accounts from this module's template, a fiscal year with
monthly periods and invoice sequences, the treasury payment method, the
settlement configuration, and the budget appropriation entry. Used by the
demo loader and the tests; an installation does the same steps in the
client (财务 menus)."""
import datetime as dt

from trytond.pool import Pool
from trytond.transaction import Transaction

from .configuration import link_chart


def create_chart(company):
    "Create the subsidy chart of accounts for the company"
    pool = Pool()
    AccountTemplate = pool.get('account.account.template')
    ModelData = pool.get('ir.model.data')
    CreateChart = pool.get('account.create_chart', type='wizard')
    Account = pool.get('account.account')
    template = AccountTemplate(ModelData.get_id(
            'elder_settlement', 'account_template_root'))
    session_id, _, _ = CreateChart.create()
    wizard = CreateChart(session_id)
    wizard.account.account_template = template
    wizard.account.company = company
    wizard.transition_create_account()
    receivable, = Account.search([
            ('company', '=', company.id), ('code', '=', '1218')])
    payable, = Account.search([
            ('company', '=', company.id), ('code', '=', '2307')])
    wizard.properties.company = company
    wizard.properties.account_receivable = receivable
    wizard.properties.account_payable = payable
    for name in ['category_account_expense', 'category_account_revenue']:
        if name in wizard.properties._fields:
            setattr(wizard.properties, name, None)
    wizard.transition_create_properties()
    CreateChart.delete(session_id)


def create_fiscalyear(company, year):
    "Create the fiscal year with monthly periods and invoice sequences"
    pool = Pool()
    Sequence = pool.get('ir.sequence.strict')
    ModelData = pool.get('ir.model.data')
    FiscalYear = pool.get('account.fiscalyear')
    InvoiceSequence = pool.get('account.fiscalyear.invoice_sequence')
    existing = FiscalYear.search([
            ('company', '=', company.id),
            ('start_date', '<=', dt.date(year, 6, 30)),
            ('end_date', '>=', dt.date(year, 6, 30)),
            ])
    if existing:
        return existing[0]
    # By XML id: the names are translated in the user's language
    move_type = ModelData.get_id('account', 'sequence_type_account_move')
    invoice_type = ModelData.get_id(
        'account_invoice', 'sequence_type_account_invoice')
    move_sequence, invoice_sequence = Sequence.create([{
                'name': '%s 记账凭证' % year,
                'sequence_type': move_type,
                'company': company.id,
                'prefix': 'PZ%s' % year,
                'padding': 5,
                }, {
                'name': '%s 发票' % year,
                'sequence_type': invoice_type,
                'company': company.id,
                'prefix': 'GYS%s' % year,
                'padding': 5,
                }])
    fiscalyear = FiscalYear(
        name=str(year), company=company,
        start_date=dt.date(year, 1, 1), end_date=dt.date(year, 12, 31),
        move_sequence=move_sequence,
        invoice_sequences=[InvoiceSequence(
                in_invoice_sequence=invoice_sequence,
                in_credit_note_sequence=invoice_sequence,
                out_invoice_sequence=invoice_sequence,
                out_credit_note_sequence=invoice_sequence)])
    fiscalyear.save()
    FiscalYear.create_period([fiscalyear])
    return fiscalyear


def create_payment_method(company):
    "The treasury (零余额账户) payment method of the cash journal"
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    PaymentMethod = pool.get('account.invoice.payment.method')
    treasury, = Account.search([
            ('company', '=', company.id), ('code', '=', '1011')])
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    method = PaymentMethod(
        company=company, name='零余额账户支付', journal=journal,
        credit_account=treasury, debit_account=treasury)
    method.save()
    return method


def record_appropriation(company, amount, date, description='养老服务补贴预算拨款'):
    """Book the year's budget appropriation: debit the treasury quota
    (1011), credit the appropriation revenue (4001); return the posted
    move"""
    pool = Pool()
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    Move = pool.get('account.move')
    Period = pool.get('account.period')
    treasury, = Account.search([
            ('company', '=', company.id), ('code', '=', '1011')])
    revenue, = Account.search([
            ('company', '=', company.id), ('code', '=', '4001')])
    journal, = Journal.search([('type', '=', 'cash')], limit=1)
    with Transaction().set_context(company=company.id):
        period = Period.find(company, date=date)
        move, = Move.create([{
                    'company': company.id,
                    'journal': journal.id,
                    'period': period,
                    'date': date,
                    'description': description,
                    'lines': [('create', [{
                                    'account': treasury.id,
                                    'debit': amount, 'credit': 0,
                                    }, {
                                    'account': revenue.id,
                                    'debit': 0, 'credit': amount,
                                    }])],
                    }])
        Move.post([move])
    return move


def setup(company, year, appropriation=None):
    "Everything settlement needs from accounting, for one company and year"
    pool = Pool()
    Account = pool.get('account.account')
    with Transaction().set_context(company=company.id):
        if not Account.search([
                    ('company', '=', company.id), ('code', '=', '2307')]):
            create_chart(company)
        create_fiscalyear(company, year)
        config = link_chart(company)
        if not config.payment_method:
            config.payment_method = create_payment_method(company)
            config.save()
        if appropriation:
            record_appropriation(
                company, appropriation, dt.date(year, 1, 1))
    return config

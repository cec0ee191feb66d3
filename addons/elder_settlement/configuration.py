# This file is part of the eldercare platform. See LICENSE.
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool
from trytond.pyson import Eval

DEFAULTS = {
    'budget_alert': Decimal('0.90'),
    'quota_early_day': 20,
    'quota_early_months': 3,
    'daily_minutes': 600,
    'daily_visits': 12,
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Settlement configuration"
    __name__ = 'settlement.configuration'

    company = fields.Many2One(
        'company.company', "Company",
        help="The operating civil-affairs body that pays the providers.")
    journal = fields.Many2One(
        'account.journal', "Supplier Invoice Journal",
        domain=[('type', '=', 'expense')])
    payment_method = fields.Many2One(
        'account.invoice.payment.method', "Payment Method",
        domain=[('company', '=', Eval('company', -1))],
        help="How the subsidy is paid to providers (the treasury account).")
    expense_account = fields.Many2One(
        'account.account', "Default Subsidy Expense Account",
        domain=[('type.expense', '=', True),
            ('company', '=', Eval('company', -1))],
        help="Used for a service type without an account of its own.")
    type_accounts = fields.One2Many(
        'settlement.type.account', 'configuration',
        "Expense Accounts by Service Type")
    evaluation_scheme = fields.Many2One(
        'provider.evaluation.scheme', "Evaluation Scheme",
        help="The scheme used by the periodic provider evaluation.")
    budget_alert = fields.Numeric(
        "Budget Alert Ratio", digits=(3, 2), required=True,
        domain=[('budget_alert', '>', 0)],
        help="Alert when the subsidy spent reaches this share of a region's "
        "budget.")
    quota_early_day = fields.Integer(
        "Quota Exhausted Before Day", required=True,
        domain=[('quota_early_day', '>=', 1), ('quota_early_day', '<=', 31)],
        help="An older person whose monthly quota runs out before this day "
        "of the month …")
    quota_early_months = fields.Integer(
        "For Consecutive Months", required=True,
        domain=[('quota_early_months', '>=', 1)],
        help="… this many months in a row is flagged for review.")
    daily_minutes = fields.Integer(
        "Practitioner Daily Minutes", required=True,
        domain=[('daily_minutes', '>', 0)],
        help="A practitioner with more service minutes in one day is flagged "
        "(implausible volume).")
    daily_visits = fields.Integer(
        "Practitioner Daily Visits", required=True,
        domain=[('daily_visits', '>', 0)],
        help="A practitioner with more visits in one day is flagged.")

    @classmethod
    def default_budget_alert(cls):
        return DEFAULTS['budget_alert']

    @classmethod
    def default_quota_early_day(cls):
        return DEFAULTS['quota_early_day']

    @classmethod
    def default_quota_early_months(cls):
        return DEFAULTS['quota_early_months']

    @classmethod
    def default_daily_minutes(cls):
        return DEFAULTS['daily_minutes']

    @classmethod
    def default_daily_visits(cls):
        return DEFAULTS['daily_visits']

    @classmethod
    def default_evaluation_scheme(cls):
        ModelData = Pool().get('ir.model.data')
        try:
            return ModelData.get_id(
                'elder_settlement', 'evaluation_scheme_default')
        except KeyError:
            return None

    def account_for(self, service_type):
        "The subsidy expense account of a service type"
        for line in self.type_accounts:
            if line.service_type == service_type:
                return line.account
        return self.expense_account


class TypeAccount(ModelSQL, ModelView):
    "Subsidy expense account by service type"
    __name__ = 'settlement.type.account'
    configuration = fields.Many2One(
        'settlement.configuration', "Configuration", required=True,
        ondelete='CASCADE')
    service_type = fields.Many2One(
        'elder.service.type', "Service Type", required=True,
        ondelete='CASCADE')
    account = fields.Many2One(
        'account.account', "Account", required=True, ondelete='RESTRICT',
        domain=[('type.expense', '=', True)])

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls.__access__.add('configuration')
        cls._sql_constraints += [
            ('type_uniq', Unique(t, t.configuration, t.service_type),
                'elder_settlement.msg_type_account_unique'),
            ]


def link_chart(company):
    """Point the settlement configuration at the accounts of the subsidy
    chart (account_chart.xml) created for the company: the expense account
    of each service type (500101 … 500106) and the supplier journal"""
    pool = Pool()
    Config = pool.get('settlement.configuration')
    Account = pool.get('account.account')
    Journal = pool.get('account.journal')
    ServiceType = pool.get('elder.service.type')
    TypeAccount = pool.get('settlement.type.account')
    config = Config(1)
    config.company = company
    accounts = {a.code: a for a in Account.search([
                ('company', '=', company.id),
                ('code', 'like', '5001%'),
                ])}
    lines = []
    for service_type in ServiceType.search([]):
        account = accounts.get('5001' + service_type.code)
        if account:
            lines.append(TypeAccount(
                    service_type=service_type, account=account))
    config.type_accounts = lines
    journals = Journal.search([('type', '=', 'expense')], limit=1)
    if journals:
        config.journal = journals[0]
    config.save()
    return config

# This file is part of the eldercare platform. See LICENSE.
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

DEFAULTS = {
    'approve_days': 5,
    'plan_days': 10,
    'setup_days': 15,
    'acceptance_days': 7,
    'monthly_subsidy': Decimal('800.00'),
    'min_compliance': Decimal('0.80'),
    'min_uptime': Decimal('0.90'),
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Family bed configuration"
    __name__ = 'bed.configuration'
    approve_days = fields.Integer(
        "Eligibility Check Days", required=True,
        domain=[('approve_days', '>', 0)],
        help="Days from the application to the eligibility decision.")
    plan_days = fields.Integer(
        "Bed Plan Days", required=True, domain=[('plan_days', '>', 0)],
        help="Days the assessment and design body has for the home "
        "assessment and the bed plan.")
    setup_days = fields.Integer(
        "Setup Days", required=True, domain=[('setup_days', '>', 0)],
        help="Days the provider has to set the bed up.")
    acceptance_days = fields.Integer(
        "Acceptance Days", required=True,
        domain=[('acceptance_days', '>', 0)],
        help="Days the acceptance body has to accept the setup.")
    monthly_subsidy = fields.Numeric(
        "Default Subsidy per Bed-month", digits=(16, 2), required=True,
        domain=[('monthly_subsidy', '>=', 0)],
        help="Yuan, when the family-bed entitlement has no amount.")
    min_compliance = fields.Numeric(
        "Minimum Plan Compliance", digits=(3, 2), required=True,
        domain=[('min_compliance', '>=', 0), ('min_compliance', '<=', 1)],
        help="Below this share of planned services delivered, the month's "
        "subsidy is reduced in proportion to the services delivered.")
    min_uptime = fields.Numeric(
        "Minimum Device Uptime", digits=(3, 2), required=True,
        domain=[('min_uptime', '>=', 0), ('min_uptime', '<=', 1)],
        help="Monthly reviews below it are flagged for the supervisor.")

    @classmethod
    def default_approve_days(cls):
        return DEFAULTS['approve_days']

    @classmethod
    def default_plan_days(cls):
        return DEFAULTS['plan_days']

    @classmethod
    def default_setup_days(cls):
        return DEFAULTS['setup_days']

    @classmethod
    def default_acceptance_days(cls):
        return DEFAULTS['acceptance_days']

    @classmethod
    def default_monthly_subsidy(cls):
        return DEFAULTS['monthly_subsidy']

    @classmethod
    def default_min_compliance(cls):
        return DEFAULTS['min_compliance']

    @classmethod
    def default_min_uptime(cls):
        return DEFAULTS['min_uptime']

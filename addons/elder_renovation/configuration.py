# This file is part of the eldercare platform. See LICENSE.
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

DEFAULTS = {
    'subsidy_cap': Decimal('3000.00'),
    'approve_days': 5,
    'assess_days': 10,
    'confirm_days': 7,
    'construction_days': 30,
    'acceptance_days': 10,
    'warranty_months': 12,
    'return_visit_days': 30,
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Renovation configuration"
    __name__ = 'renovation.configuration'
    subsidy_cap = fields.Numeric(
        "Subsidy Cap per Home", digits=(16, 2), required=True,
        domain=[('subsidy_cap', '>=', 0)],
        help="Yuan: a plan that costs more is refused.")
    approve_days = fields.Integer(
        "Eligibility Check Days", required=True,
        domain=[('approve_days', '>', 0)])
    assess_days = fields.Integer(
        "Assessment and Design Days", required=True,
        domain=[('assess_days', '>', 0)])
    confirm_days = fields.Integer(
        "Confirmation Days", required=True,
        domain=[('confirm_days', '>', 0)],
        help="Days the older person has to confirm the plan.")
    construction_days = fields.Integer(
        "Construction Days", required=True,
        domain=[('construction_days', '>', 0)])
    acceptance_days = fields.Integer(
        "Acceptance Days", required=True,
        domain=[('acceptance_days', '>', 0)])
    warranty_months = fields.Integer(
        "Warranty Months", required=True,
        domain=[('warranty_months', '>=', 0)])
    return_visit_days = fields.Integer(
        "Return Visit After Days", required=True,
        domain=[('return_visit_days', '>', 0)],
        help="The return visit is planned this many days after acceptance.")

    @classmethod
    def default_subsidy_cap(cls):
        return DEFAULTS['subsidy_cap']

    @classmethod
    def default_approve_days(cls):
        return DEFAULTS['approve_days']

    @classmethod
    def default_assess_days(cls):
        return DEFAULTS['assess_days']

    @classmethod
    def default_confirm_days(cls):
        return DEFAULTS['confirm_days']

    @classmethod
    def default_construction_days(cls):
        return DEFAULTS['construction_days']

    @classmethod
    def default_acceptance_days(cls):
        return DEFAULTS['acceptance_days']

    @classmethod
    def default_warranty_months(cls):
        return DEFAULTS['warranty_months']

    @classmethod
    def default_return_visit_days(cls):
        return DEFAULTS['return_visit_days']

# This file is part of the eldercare platform. See LICENSE.
from decimal import Decimal

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

DEFAULTS = {
    'acceptance_timeout': 30,
    'geofence_tolerance': 200,
    'min_duration_ratio': Decimal('0.5'),
    'max_travel_speed': 80,
    'plan_horizon': 3,
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Home service configuration"
    __name__ = 'service.configuration'

    dispatch_policy = fields.Many2One(
        'service.dispatch.policy', "Dispatch Policy", ondelete='RESTRICT',
        help="The policy that scores providers in automatic dispatch.")
    auto_dispatch = fields.Boolean(
        "Automatic Dispatch",
        help="Dispatch submitted orders automatically (by the scheduler).")
    acceptance_timeout = fields.Integer(
        "Acceptance Timeout", required=True,
        domain=[('acceptance_timeout', '>', 0)],
        help="Minutes a provider has to accept a dispatched order before it "
        "is dispatched to another provider.")
    geofence_tolerance = fields.Integer(
        "Geofence Tolerance", required=True,
        domain=[('geofence_tolerance', '>=', 0)],
        help="Metres between the older person's home and the check-in "
        "position accepted on top of the GPS accuracy.")
    min_duration_ratio = fields.Numeric(
        "Minimum Duration Ratio", digits=(3, 2), required=True,
        domain=[('min_duration_ratio', '>=', 0)],
        help="A visit shorter than this share of the standard duration is "
        "flagged.")
    max_travel_speed = fields.Integer(
        "Maximum Travel Speed", required=True,
        domain=[('max_travel_speed', '>', 0)],
        help="km/h: a worker faster than this between two visits is flagged.")
    plan_horizon = fields.Integer(
        "Plan Horizon", required=True, domain=[('plan_horizon', '>=', 0)],
        help="Days ahead for which service plans generate orders.")

    @staticmethod
    def default_auto_dispatch():
        return True

    @classmethod
    def default_acceptance_timeout(cls):
        return DEFAULTS['acceptance_timeout']

    @classmethod
    def default_geofence_tolerance(cls):
        return DEFAULTS['geofence_tolerance']

    @classmethod
    def default_min_duration_ratio(cls):
        return DEFAULTS['min_duration_ratio']

    @classmethod
    def default_max_travel_speed(cls):
        return DEFAULTS['max_travel_speed']

    @classmethod
    def default_plan_horizon(cls):
        return DEFAULTS['plan_horizon']

    @classmethod
    def default_dispatch_policy(cls):
        from trytond.pool import Pool
        ModelData = Pool().get('ir.model.data')
        try:
            return ModelData.get_id('elder_service', 'dispatch_policy_default')
        except KeyError:
            return None

    def value(self, name):
        "Return the setting or its default when it is not set"
        value = getattr(self, name)
        return DEFAULTS.get(name) if value is None else value

# This file is part of the eldercare platform. See LICENSE.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool

DEFAULTS = {
    'objection_days': 5,
    'periodic_months': 12,
    'due_lead_days': 30,
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Assessment configuration"
    __name__ = 'elder.assessment.configuration'

    objection_days = fields.Integer(
        "Objection Period", required=True,
        domain=[('objection_days', '>=', 0)],
        help="Days a reviewed result is published for objection before it "
        "takes effect.")
    periodic_months = fields.Integer(
        "Re-assessment Interval", required=True,
        domain=[('periodic_months', '>', 0)],
        help="Months after which an effective assessment is due again "
        "(routine re-assessment, GB/T 42195: at least every 12 months).")
    due_lead_days = fields.Integer(
        "Request Lead Time", required=True,
        domain=[('due_lead_days', '>=', 0)],
        help="Days before the due date on which the scheduler creates the "
        "re-assessment request.")
    verify_url = fields.Char(
        "Verification Base URL",
        help="Public address of the platform printed in the QR code of the "
        "report, e.g. https://yl.example.gov.cn (the route "
        "/<database>/assess/verify/<token> is appended).")

    @classmethod
    def default_objection_days(cls):
        return DEFAULTS['objection_days']

    @classmethod
    def default_periodic_months(cls):
        return DEFAULTS['periodic_months']

    @classmethod
    def default_due_lead_days(cls):
        return DEFAULTS['due_lead_days']


def get_configuration():
    return Pool().get('elder.assessment.configuration')(1)

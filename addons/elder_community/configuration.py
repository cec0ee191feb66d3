# This file is part of the eldercare platform. See LICENSE.
"Settings of the community module (one record)."
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.pool import Pool

DEFAULTS = {
    'certificate_alert_days': 60,
    'fte_minutes_per_day': 360,
    'working_days_per_month': 22,
    'appraisal_target_orders': 40,
    'weight_rating': 0.4,
    'weight_volume': 0.2,
    'weight_quality': 0.3,
    'weight_training': 0.1,
    'feedback_due_hours': 48,
    'volunteer_max_hours': 12,
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Community configuration"
    __name__ = 'community.configuration'

    credit_policy = fields.Many2One(
        'credit.policy', "Credit Policy", ondelete='RESTRICT',
        help="The policy that turns credit records into scores, levels and "
        "dispatch penalties.")
    certificate_alert_days = fields.Integer(
        "Certificate Alert Days", required=True,
        domain=[('certificate_alert_days', '>', 0)],
        help="A certificate expiring within this many days raises an alert.")
    fte_minutes_per_day = fields.Integer(
        "Service Minutes per Practitioner-Day", required=True,
        domain=[('fte_minutes_per_day', '>', 0)],
        help="Service minutes one full-time practitioner delivers in a "
        "working day: turns demand into headcount in staffing plans.")
    working_days_per_month = fields.Integer(
        "Working Days per Month", required=True,
        domain=[('working_days_per_month', '>', 0)])
    appraisal_target_orders = fields.Integer(
        "Appraisal Target Orders per Month", required=True,
        domain=[('appraisal_target_orders', '>', 0)],
        help="Orders a month that earn the full volume score of an "
        "appraisal.")
    weight_rating = fields.Float("Rating Weight", required=True)
    weight_volume = fields.Float("Volume Weight", required=True)
    weight_quality = fields.Float("Quality Weight", required=True)
    weight_training = fields.Float("Training Weight", required=True)
    feedback_due_hours = fields.Integer(
        "Feedback Answer Time", required=True,
        domain=[('feedback_due_hours', '>', 0)],
        help="Hours within which customer feedback is to be answered.")
    volunteer_max_hours = fields.Numeric(
        "Maximum Volunteer Hours per Activity", digits=(4, 1), required=True,
        domain=[('volunteer_max_hours', '>', 0)])

    @classmethod
    def default_credit_policy(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        try:
            return ModelData.get_id('elder_community', 'credit_policy_default')
        except KeyError:
            return None


def _default(name):
    return classmethod(lambda cls: DEFAULTS[name])


for _name in DEFAULTS:
    setattr(Configuration, 'default_' + _name, _default(_name))
del _name

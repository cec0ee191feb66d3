# This file is part of the eldercare platform. See LICENSE.
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Call Center Configuration"
    __name__ = 'call.configuration'
    accept_seconds = fields.Integer("Alarm Acceptance SLA (s)", required=True,
        help="An alarm not accepted within this time is escalated.")
    unreachable_minutes = fields.Integer("Unreachable Escalation (min)",
        required=True,
        help="When neither the older person nor a contact is reached this "
        "long after acceptance, the alarm is escalated.")
    care_call_days = fields.Integer("Care Call Interval (days)",
        required=True,
        help="Periodic care calls to older people living alone.")
    callback_days = fields.Integer("Return Visit Delay (days)",
        required=True,
        help="Return visits are planned this many days after a service or "
        "a device installation.")
    deadline_consultation = fields.Integer("Consultation (h)", required=True)
    deadline_service_request = fields.Integer("Service Request (h)",
        required=True)
    deadline_complaint = fields.Integer("Complaint (h)", required=True)
    deadline_dispute = fields.Integer("Dispute (h)", required=True)
    deadline_device_fault = fields.Integer("Device Fault (h)", required=True)

    @staticmethod
    def default_accept_seconds():
        return 120

    @staticmethod
    def default_unreachable_minutes():
        return 10

    @staticmethod
    def default_care_call_days():
        return 7

    @staticmethod
    def default_callback_days():
        return 3

    @staticmethod
    def default_deadline_consultation():
        return 24

    @staticmethod
    def default_deadline_service_request():
        return 24

    @staticmethod
    def default_deadline_complaint():
        return 72

    @staticmethod
    def default_deadline_dispute():
        return 168

    @staticmethod
    def default_deadline_device_fault():
        return 48

# This file is part of the eldercare platform. See LICENSE.
"Configuration of elder_wechat: binding, rate limits, notifications, SMS."
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

from .sms import gateway_kinds

DEFAULTS = {
    'code_ttl': 10,            # minutes an SMS code is valid
    'code_attempts': 5,        # wrong codes before the request is refused
    'codes_per_elder': 5,      # SMS codes sent to one older person a day
    'requests_per_user': 5,    # binding requests of one account an hour
    'api_per_minute': 120,     # API calls of one account a minute
    'logins_per_minute': 20,   # login calls of one client address a minute
    'notice_attempts': 3,      # WeChat attempts before the SMS fallback
    'notice_retry': 2,         # minutes before the first retry (doubles)
    'notice_version': 'family-sharing-v1',
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "WeChat Configuration"
    __name__ = 'wechat.configuration'
    mini_program = fields.Many2One(
        'wechat.account', "Mini Program",
        domain=[('kind', '=', 'mini_program')],
        help="The application whose subscribe messages notify families.")
    official_account = fields.Many2One(
        'wechat.account', "Official Account",
        domain=[('kind', '=', 'official_account')])
    merchant = fields.Many2One(
        'wechat.pay.merchant', "WeChat Pay Merchant")
    sms_gateway = fields.Selection('get_sms_gateways', "SMS Gateway",
        required=True,
        help="How SMS codes and fallback notices are sent (a gateway class "
        "registered with elder_wechat.sms.register_gateway).")
    sms_signature = fields.Char("SMS Signature", required=True,
        help="The signature (签名) of the SMS texts, e.g. 【12349养老服务】.")
    code_ttl = fields.Integer("Code Validity (minutes)", required=True,
        domain=[('code_ttl', '>=', 1)])
    code_attempts = fields.Integer("Code Attempts", required=True,
        domain=[('code_attempts', '>=', 1)])
    codes_per_elder = fields.Integer("Codes per Older Person a Day",
        required=True, domain=[('codes_per_elder', '>=', 1)])
    requests_per_user = fields.Integer("Binding Requests per Account an Hour",
        required=True, domain=[('requests_per_user', '>=', 1)])
    api_per_minute = fields.Integer("API Calls per Account a Minute",
        required=True, domain=[('api_per_minute', '>=', 1)])
    logins_per_minute = fields.Integer("Logins per Address a Minute",
        required=True, domain=[('logins_per_minute', '>=', 1)])
    notice_attempts = fields.Integer("WeChat Attempts", required=True,
        domain=[('notice_attempts', '>=', 1)],
        help="Attempts through WeChat before a notice falls back to SMS.")
    notice_retry = fields.Integer("First Retry After (minutes)",
        required=True, domain=[('notice_retry', '>=', 0)])
    notice_version = fields.Char("Consent Notice Version", required=True,
        help="The version of the privacy notice families and older people "
        "agree to when binding (security.consent).")

    @classmethod
    def get_sms_gateways(cls):
        return gateway_kinds()

    @classmethod
    def default_sms_gateway(cls):
        return 'outbox'

    @classmethod
    def default_sms_signature(cls):
        return '【12349养老服务】'


def _default(name):
    return classmethod(lambda cls: DEFAULTS[name])


for _name in ['code_ttl', 'code_attempts', 'codes_per_elder',
        'requests_per_user', 'api_per_minute', 'logins_per_minute',
        'notice_attempts', 'notice_retry', 'notice_version']:
    setattr(Configuration, 'default_' + _name, _default(_name))

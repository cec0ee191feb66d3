# This file is part of the eldercare platform. See LICENSE.
"Security configuration: every threshold of the authentication policy."
from trytond.cache import Cache
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.transaction import without_check_access

# Field name -> default. The defaults are the platform's policy
# (GB/T 22239 level 2); a security administrator may tighten them.
DEFAULTS = {
    'password_length': 8,
    'password_classes': 3,
    'password_not_login': True,
    'password_not_common': True,
    'password_history': 5,
    'password_max_age': 90,
    'lockout_attempts': 5,
    'lockout_duration': 10,
    'session_idle_timeout': 30,
    'totp_admin_required': False,
    'totp_issuer': "Eldercare",
    }


class Configuration(ModelSingleton, ModelSQL, ModelView):
    __name__ = 'security.configuration'

    password_length = fields.Integer(
        "Minimum Password Length", required=True,
        domain=[('password_length', '>=', 1)],
        help="Passwords shorter than this number of characters are refused.")
    password_classes = fields.Integer(
        "Character Classes", required=True,
        domain=[('password_classes', '>=', 1), ('password_classes', '<=', 4)],
        help="How many of the classes lowercase letters, uppercase letters, "
        "digits and symbols a password must contain.")
    password_not_login = fields.Boolean(
        "Refuse Login in Password",
        help="Refuse passwords that contain the user's login.")
    password_not_common = fields.Boolean(
        "Refuse Common Passwords",
        help="Refuse passwords found in the list of common passwords "
        "shipped with the module.")
    password_history = fields.Integer(
        "Password History", required=True,
        domain=[('password_history', '>=', 0)],
        help="A new password must differ from this number of previous "
        "passwords (0 to disable).")
    password_max_age = fields.Integer(
        "Maximum Password Age (days)", required=True,
        domain=[('password_max_age', '>=', 0)],
        help="After this number of days the user must choose a new password "
        "at login (0 to disable).")
    lockout_attempts = fields.Integer(
        "Failed Logins Before Lockout", required=True,
        domain=[('lockout_attempts', '>=', 1)])
    lockout_duration = fields.Integer(
        "Lockout Duration (minutes)", required=True,
        domain=[('lockout_duration', '>=', 1)],
        help="How long a login stays locked; failures older than this are "
        "forgotten.")
    session_idle_timeout = fields.Integer(
        "Idle Session Timeout (minutes)", required=True,
        domain=[('session_idle_timeout', '>=', 1)],
        help="A session without any request for this time is closed.")
    totp_admin_required = fields.Boolean(
        "Two-Factor for Administrators",
        help="Require a time-based one-time password (TOTP) from the users "
        "of the system, security and audit administrator groups.")
    totp_issuer = fields.Char(
        "TOTP Issuer", required=True,
        help="Name shown in the authenticator application.")

    _values_cache = Cache('security.configuration.values', context=False)

    @classmethod
    def default_password_length(cls):
        return DEFAULTS['password_length']

    @classmethod
    def default_password_classes(cls):
        return DEFAULTS['password_classes']

    @classmethod
    def default_password_not_login(cls):
        return DEFAULTS['password_not_login']

    @classmethod
    def default_password_not_common(cls):
        return DEFAULTS['password_not_common']

    @classmethod
    def default_password_history(cls):
        return DEFAULTS['password_history']

    @classmethod
    def default_password_max_age(cls):
        return DEFAULTS['password_max_age']

    @classmethod
    def default_lockout_attempts(cls):
        return DEFAULTS['lockout_attempts']

    @classmethod
    def default_lockout_duration(cls):
        return DEFAULTS['lockout_duration']

    @classmethod
    def default_session_idle_timeout(cls):
        return DEFAULTS['session_idle_timeout']

    @classmethod
    def default_totp_admin_required(cls):
        return DEFAULTS['totp_admin_required']

    @classmethod
    def default_totp_issuer(cls):
        return DEFAULTS['totp_issuer']

    @classmethod
    def get_values(cls):
        """Return the policy as a dict, readable from any transaction
        (login runs as root, session checks as the user)."""
        values = cls._values_cache.get('values')
        if values is None:
            with without_check_access():
                config = cls(1)
                values = {
                    name: getattr(config, name) for name in DEFAULTS}
            for name, default in DEFAULTS.items():
                if values[name] is None:
                    values[name] = default
            cls._values_cache.set('values', values)
        return values.copy()

    @classmethod
    def on_modification(cls, mode, records, field_names=None):
        super().on_modification(mode, records, field_names=field_names)
        cls._values_cache.clear()

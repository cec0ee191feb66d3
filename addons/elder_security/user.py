# This file is part of the eldercare platform. See LICENSE.
"""Password policy, password history and expiry, lockout and TOTP on res.user.

The login sequence (User.get_login) is:

1. a locked login (known or not) is refused with RateLimitException before
   anything else is looked at, so locked and unknown logins answer alike;
2. trytond's own methods ([session] authentications, 'password' by default)
   check the credentials; a failure is counted towards the lockout;
3. a guessable password (the login itself or a common password) is refused
   like a wrong one, so no default account such as admin/admin is usable;
4. a forced password change when the password expired, was a temporary
   reset password or no longer meets the policy: the client is asked for
   'new_password' and 'new_password_confirm' (LoginException, type
   'password', which sao and the desktop client prompt for);
5. the second factor (TOTP) when the user or the configuration asks for it,
   with enrolment on first use. It is asked last because the client sends
   every answer again on each round and a code is accepted only once;
   the new password is written only when everything succeeded.
"""
import datetime
import gzip
import logging
import os
import string
from functools import lru_cache

from sql import Literal

from trytond.exceptions import LoginException, RateLimitException
from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.res.user import PasswordError
from trytond.transaction import Transaction, without_check_access

try:
    import pyotp
except ImportError:  # pragma: no cover
    pyotp = None

logger = logging.getLogger(__name__)

DATA_DIR = os.path.join(os.path.dirname(__file__), 'data')
COMMON_PASSWORD_FILES = [
    'common_passwords.txt.gz', 'common_passwords_cn.txt']
ADMIN_GROUPS = [
    'group_system_admin', 'group_security_admin', 'group_audit_admin']


@lru_cache(maxsize=1)
def common_passwords():
    "The set of common passwords (lower case) shipped in data/."
    passwords = set()
    for name in COMMON_PASSWORD_FILES:
        path = os.path.join(DATA_DIR, name)
        opener = gzip.open if name.endswith('.gz') else open
        with opener(path, 'rt', encoding='utf-8') as file:
            for line in file:
                line = line.strip()
                if line and not line.startswith('#'):
                    passwords.add(line.lower())
    return frozenset(passwords)


def character_classes(password):
    "Number of classes among lowercase, uppercase, digits and others."
    classes = [False] * 4
    for char in password:
        if char in string.digits:
            classes[2] = True
        elif char.islower():
            classes[0] = True
        elif char.isupper():
            classes[1] = True
        else:
            classes[3] = True
    return sum(classes)


class User(metaclass=PoolMeta):
    __name__ = 'res.user'
    # Authentication data (tests/test_sensitivity.py)
    _sensitivity = {
        'password_changed_at': 'internal', 'totp_required': 'internal',
        'totp_enrolled': 'internal', 'totp_secret': 'sensitive',
        'totp_pending_secret': 'sensitive', 'totp_last_counter': 'internal'}

    password_changed_at = fields.Timestamp(
        "Password Changed At", readonly=True)
    totp_required = fields.Boolean(
        "Two-Factor Authentication",
        help="Ask for a one-time password from an authenticator application "
        "at login.")
    totp_enrolled = fields.Function(
        fields.Boolean("Authenticator Enrolled"), 'get_totp_enrolled')
    totp_secret = fields.Char("TOTP Secret", strip=False, readonly=True)
    totp_pending_secret = fields.Char(
        "TOTP Pending Secret", strip=False, readonly=True)
    totp_last_counter = fields.Integer("TOTP Last Counter", readonly=True)

    _secret_fields = ['totp_secret', 'totp_pending_secret']

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._preferences_fields.append('totp_required')
        cls._buttons.update({
                'totp_reset': {
                    'invisible': ~Eval('totp_enrolled', False),
                    'depends': ['totp_enrolled'],
                    },
                })

    @classmethod
    def default_totp_required(cls):
        return False

    def get_totp_enrolled(self, name):
        cursor = Transaction().connection.cursor()
        table = self.__table__()
        cursor.execute(*table.select(
                table.totp_secret, where=table.id == self.id))
        row = cursor.fetchone()
        return bool(row and row[0])

    @classmethod
    def read(cls, ids, fields_names):
        # Secrets never leave the server, like password_hash.
        result = super().read(ids, fields_names)
        cache = Transaction().get_cache().get(cls.__name__)
        for values in result:
            for name in cls._secret_fields:
                if name in values:
                    values[name] = None
                if cache and values['id'] in cache:
                    cache[values['id']][name] = None
        return result

    @classmethod
    def copy(cls, users, default=None):
        default = dict(default or {})
        for name in cls._secret_fields + [
                'password_changed_at', 'totp_last_counter']:
            default.setdefault(name, None)
        return super().copy(users, default=default)

    @classmethod
    def write(cls, *args):
        args = list(args)
        for i in range(1, len(args), 2):
            if args[i].get('totp_required') is False:
                args[i] = dict(args[i],
                    totp_secret=None, totp_pending_secret=None,
                    totp_last_counter=None)
        super().write(*args)

    @classmethod
    @ModelView.button
    def totp_reset(cls, users):
        "Forget the authenticator: the user enrols again at next login."
        with without_check_access():
            cls.write(users, {
                    'totp_secret': None,
                    'totp_pending_secret': None,
                    'totp_last_counter': None,
                    })

    # -- password policy -------------------------------------------------

    @classmethod
    def _password_rules(cls):
        "Ordered rule names; each has a method _password_rule_<name>."
        return ['length', 'classes', 'login', 'common', 'history']

    @classmethod
    def validate_password(cls, password, users):
        super().validate_password(password, users)
        pool = Pool()
        Configuration = pool.get('security.configuration')
        config = Configuration.get_values()
        for rule in cls._password_rules():
            message = getattr(cls, '_password_rule_%s' % rule)(
                password, users, config)
            if message:
                raise PasswordError(message)

    @classmethod
    def _password_rule_length(cls, password, users, config):
        length = config['password_length']
        if len(password) < length:
            return gettext(
                'elder_security.msg_password_length', length=length)

    @classmethod
    def _password_rule_classes(cls, password, users, config):
        classes = config['password_classes']
        if character_classes(password) < classes:
            return gettext(
                'elder_security.msg_password_classes', classes=classes)

    @classmethod
    def _password_rule_login(cls, password, users, config):
        if not config['password_not_login']:
            return
        lower = password.lower()
        for user in users:
            login = (getattr(user, 'login', None) or '').lower()
            if login and (login in lower or lower in login):
                return gettext('elder_security.msg_password_login')

    @classmethod
    def _password_rule_common(cls, password, users, config):
        if config['password_not_common']:
            if password.lower() in common_passwords():
                return gettext('elder_security.msg_password_common')

    @classmethod
    def _password_rule_history(cls, password, users, config):
        pool = Pool()
        History = pool.get('res.user.password_history')
        count = config['password_history']
        if count <= 0:
            return
        for user in users:
            if not getattr(user, 'id', None) or user.id < 0:
                continue
            for hash_ in History.last_hashes(user.id, count):
                if cls.check_password(password, hash_)[0]:
                    return gettext(
                        'elder_security.msg_password_history',
                        history=count)

    @classmethod
    def set_password(cls, users, name, value):
        pool = Pool()
        History = pool.get('res.user.password_history')
        super().set_password(users, name, value)
        if value == 'x' * 10:
            return
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        ids = [u.id for u in users]
        cursor.execute(*table.select(
                table.id, table.password_hash,
                where=table.id.in_(ids)))
        hashes = dict(cursor)
        now = datetime.datetime.now()
        cursor.execute(*table.update(
                [table.password_changed_at],
                [Literal(now) if value else Literal(None)],
                where=table.id.in_(ids)))
        for user_id, hash_ in hashes.items():
            if hash_:
                History.add(user_id, hash_)

    # -- login -------------------------------------------------------------

    @classmethod
    def get_login(cls, login, parameters):
        pool = Pool()
        Lockout = pool.get('security.login.lockout')
        Configuration = pool.get('security.configuration')
        config = Configuration.get_values()

        if Lockout.is_locked(login, config):
            logger.warning("login refused for locked login '%s'", login)
            raise RateLimitException()

        user_id = super().get_login(login, parameters)
        if not user_id:
            Lockout.failure(login, config)
            return None
        user = cls(user_id)
        password = parameters.get('password')

        if password is not None and cls._password_guessable(
                user, password, config):
            logger.warning(
                "login refused for '%s': guessable password", login)
            Lockout.failure(login, config)
            return None

        # The new password is asked before the one-time code, so that the
        # code is entered last and is still fresh when everything is set.
        new_password = None
        if password is not None:
            reason = cls._password_change_reason(
                user, login, password, config)
            if reason:
                new_password = cls._ask_new_password(
                    user, password, parameters, reason)

        if cls._totp_needed(user, config):
            if not cls._check_totp(user, parameters, config):
                Lockout.failure(login, config)
                return None

        if new_password:
            with without_check_access():
                cls.write([user], {'password': new_password})
            logger.info("password changed at login for '%s'", user.login)

        Lockout.success(login)
        return user_id

    @classmethod
    def _password_guessable(cls, user, password, config):
        lower = password.lower()
        if config['password_not_login'] and lower == user.login.lower():
            return True
        if config['password_not_common'] and lower in common_passwords():
            return True
        return False

    @classmethod
    def _password_change_reason(cls, user, login, password, config):
        "Return the message id asking for a new password or None."
        user_id, password_hash, password_reset = cls._get_login(login)
        if (password_reset and password == password_reset
                and not (password_hash
                    and cls.check_password(password, password_hash)[0])):
            return 'elder_security.msg_password_change_reset'
        max_age = config['password_max_age']
        if max_age > 0:
            changed = user.password_changed_at
            if (not changed
                    or changed + datetime.timedelta(days=max_age)
                    <= datetime.datetime.now()):
                return 'elder_security.msg_password_change_expired'
        for rule in ['length', 'classes', 'login', 'common']:
            if getattr(cls, '_password_rule_%s' % rule)(
                    password, [user], config):
                return 'elder_security.msg_password_change_policy'

    @classmethod
    def _ask_new_password(cls, user, password, parameters, reason):
        "Return the new password once given, valid and confirmed."
        new = parameters.get('new_password')
        if not new:
            raise LoginException(
                'new_password', gettext(reason), type='password')
        error = None
        if new == password:
            error = gettext('elder_security.msg_password_same')
        else:
            try:
                cls.validate_password(new, [user])
            except PasswordError as exception:
                error = exception.message
        if error:
            raise LoginException(
                'new_password',
                gettext('elder_security.msg_password_change_retry',
                    error=error),
                type='password')
        confirm = parameters.get('new_password_confirm')
        if confirm is None:
            raise LoginException(
                'new_password_confirm',
                gettext('elder_security.msg_password_confirm'),
                type='password')
        if confirm != new:
            raise LoginException(
                'new_password_confirm',
                gettext('elder_security.msg_password_confirm_mismatch'),
                type='password')
        return new

    # -- TOTP --------------------------------------------------------------

    @classmethod
    def _admin_group_ids(cls):
        pool = Pool()
        ModelData = pool.get('ir.model.data')
        return {ModelData.get_id('elder_security', g) for g in ADMIN_GROUPS}

    @classmethod
    def _totp_needed(cls, user, config):
        if user.totp_required:
            return True
        if config['totp_admin_required']:
            with Transaction().set_user(user.id), \
                    Transaction().reset_context():
                groups = set(cls.get_groups())
            return bool(groups & cls._admin_group_ids())
        return False

    @classmethod
    def _totp_secrets(cls, user):
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(
                table.totp_secret, table.totp_pending_secret,
                table.totp_last_counter,
                where=table.id == user.id))
        return cursor.fetchone()

    @classmethod
    def _check_totp(cls, user, parameters, config):
        """Return True if the code is valid, raise LoginException to ask for
        it (with the key to enrol when the user has none yet)."""
        if pyotp is None:
            raise AccessError(gettext('elder_security.msg_totp_unavailable'))
        secret, pending, last_counter = cls._totp_secrets(user)
        if not secret and not pending:
            pending = pyotp.random_base32()
            with without_check_access():
                cls.write([user], {'totp_pending_secret': pending})
        code = parameters.get('totp_code')
        if not code:
            if secret:
                message = gettext('elder_security.msg_totp_code')
            else:
                uri = pyotp.TOTP(pending).provisioning_uri(
                    name=user.login, issuer_name=config['totp_issuer'])
                message = gettext(
                    'elder_security.msg_totp_enrol',
                    secret=' '.join(
                        pending[i:i + 4] for i in range(0, len(pending), 4)),
                    uri=uri)
            raise LoginException('totp_code', message, type='char')
        counter = cls._totp_verify(
            secret or pending, str(code).replace(' ', ''), last_counter)
        if counter is None:
            return False
        values = {'totp_last_counter': counter}
        if not secret:
            values.update({
                    'totp_secret': pending,
                    'totp_pending_secret': None,
                    })
        with without_check_access():
            cls.write([user], values)
        return True

    @classmethod
    def _totp_verify(cls, secret, code, last_counter=None, now=None):
        """Return the time step of the valid code (one step of drift
        allowed) or None; a code is never accepted twice."""
        totp = pyotp.TOTP(secret)
        if now is None:
            now = datetime.datetime.now()
        current = totp.timecode(now)
        for counter in (current, current - 1, current + 1):
            if last_counter is not None and counter <= last_counter:
                continue
            if pyotp.utils.strings_equal(
                    code, totp.generate_otp(counter)):
                return counter
        return None


class PasswordHistory(ModelSQL):
    "Hashes of the previous passwords of a user, newest first."
    __name__ = 'res.user.password_history'
    _sensitivity = {'password_hash': 'sensitive'}

    user = fields.Many2One(
        'res.user', "User", required=True, ondelete='CASCADE')
    password_hash = fields.Char("Password Hash", required=True, strip=False)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__ = {}
        cls._order = [('create_date', 'DESC'), ('id', 'DESC')]

    @classmethod
    def last_hashes(cls, user_id, count):
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        cursor.execute(*table.select(
                table.password_hash,
                where=table.user == user_id,
                order_by=[table.id.desc],
                limit=count))
        return [h for h, in cursor]

    @classmethod
    def add(cls, user_id, password_hash):
        pool = Pool()
        Configuration = pool.get('security.configuration')
        keep = Configuration.get_values()['password_history']
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        with without_check_access():
            cls.create([{'user': user_id, 'password_hash': password_hash}])
        kept = table.select(
            table.id, where=table.user == user_id,
            order_by=[table.id.desc], limit=max(keep, 1))
        cursor.execute(*table.delete(
                where=(table.user == user_id) & ~table.id.in_(kept)))

# This file is part of the eldercare platform. See LICENSE.
"""Encrypted reporting interface for providers (standard §7.5.2).

A provider system pushes its service records in real time to::

    POST /<database>/elder/provider/v1/reports

with the headers

``X-Key-Id``      the key id of its ``security.provider.credential``
``X-Timestamp``   Unix time in seconds (±5 minutes of the server clock)
``X-Nonce``       8 to 64 characters ``[A-Za-z0-9_-]``, never reused
``X-Signature``   base64 of the signature of the *string to sign*

and a JSON body ``{"iv": b64, "ciphertext": b64, "tag": b64}``: the record
(JSON, UTF-8) encrypted with SM4-GCM under the credential's SM4 key, a
12-byte random IV and the additional data ``"<key id>\\n<timestamp>\\n<nonce>"``.

The string to sign is the UTF-8 of::

    POST\\n<path>\\n<key id>\\n<timestamp>\\n<nonce>\\n<SM3 hex of the body>

signed with SM2 (the provider's private key, default signer id
``1234567812345678``, DER, verified with the public key registered in the
credential) or, for the simpler option, HMAC-SM3 with the shared secret.

The decrypted record is a JSON object::

    {"record_id": "…", "kind": "…", "occurred_at": "2025-01-31T09:30:00+08:00",
     "data": {…}}

Answers (JSON): 201 accepted with a receipt; 200 with the same receipt when
the same record id is pushed again with the same content; 401 missing or
unknown key, stale timestamp or bad signature; 409 replayed nonce or a
record id pushed again with another content; 400 undecipherable body;
422 invalid record, with ``fields`` naming each bad field.

Accepted records wait in ``security.provider.report`` (state *pending*) for
the module that knows them (elder_service) — see ``ProviderReport.process``.
"""
import base64
import binascii
import datetime
import hmac
import json
import logging
import re
import secrets
import uuid

from trytond.i18n import gettext
from trytond.model import (
    Index, ModelSQL, ModelView, Unique, fields)
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction, without_check_access
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .configuration import DEFAULTS

try:
    import gmssl_pyx
except ImportError:  # pragma: no cover
    gmssl_pyx = None

logger = logging.getLogger(__name__)

DEFAULTS.update({
        'report_time_window': 300,
        })

PATH = '/elder/provider/v1/reports'
NONCE = re.compile(r'^[A-Za-z0-9_-]{8,64}$')
RECORD_ID = re.compile(r'^[A-Za-z0-9_.:/-]{1,64}$')
KIND = re.compile(r'^[a-z][a-z0-9_.]{0,31}$')
SM2_SIGNER_ID = b'1234567812345678'


def sm3_hex(data):
    return gmssl_pyx.sm3_hash(data).hex()


def string_to_sign(path, key_id, timestamp, nonce, body):
    return '\n'.join([
            'POST', path, key_id, str(timestamp), nonce, sm3_hex(body),
            ]).encode('utf-8')


def aad(key_id, timestamp, nonce):
    return ('%s\n%s\n%s' % (key_id, timestamp, nonce)).encode('utf-8')


def canonical_json(value):
    return json.dumps(
        value, ensure_ascii=False, sort_keys=True, separators=(',', ':'))


class ReportError(Exception):
    "An answer other than success: HTTP status, error code, details"

    def __init__(self, status, code, message, **details):
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = details

    def to_json(self):
        return dict(error=self.code, message=self.message, **self.details)


class Configuration(metaclass=PoolMeta):
    __name__ = 'security.configuration'

    report_time_window = fields.Integer(
        "Report Time Window (seconds)", required=True,
        domain=[('report_time_window', '>=', 30)],
        help="Provider reports whose timestamp differs more from the server "
        "clock are refused.")

    @classmethod
    def default_report_time_window(cls):
        return DEFAULTS['report_time_window']


class ProviderCredential(ModelSQL, ModelView):
    "Provider reporting credential (服务机构上报凭据)"
    __name__ = 'security.provider.credential'
    # Credentials (GB/T 35273: 口令, 密钥) are sensitive (tests/test_sensitivity.py)
    _sensitivity = {
        'key_id': 'internal', 'sm2_public_key': 'internal',
        'sm4_key': 'sensitive', 'hmac_secret': 'sensitive'}

    provider = fields.Many2One(
        'party.party', "Provider", required=True, ondelete='RESTRICT',
        help="The party of the service provider.")
    key_id = fields.Char(
        "Key ID", required=True, readonly=True, strip=False)
    signature_method = fields.Selection([
            ('sm2', "SM2 Signature"),
            ('hmac_sm3', "HMAC-SM3"),
            ], "Signature", required=True)
    sm2_public_key = fields.Char(
        "SM2 Public Key",
        states={
            'required': Eval('signature_method') == 'sm2',
            'invisible': Eval('signature_method') != 'sm2',
            },
        help="The provider's SM2 public key in hexadecimal (64 bytes, or "
        "65 with the 04 prefix).")
    sm4_key = fields.Char("SM4 Key", readonly=True, strip=False)
    hmac_secret = fields.Char("HMAC Secret", readonly=True, strip=False)
    active = fields.Boolean("Active")
    last_used = fields.Timestamp("Last Used", readonly=True)

    _secret_fields = ['sm4_key', 'hmac_secret']

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('key_id_uniq', Unique(t, t.key_id),
                'elder_security.msg_credential_key_id_unique'),
            ]

    @staticmethod
    def default_key_id():
        return 'pk_' + secrets.token_hex(8)

    @staticmethod
    def default_signature_method():
        return 'sm2'

    @staticmethod
    def default_active():
        return True

    def get_rec_name(self, name):
        return '%s (%s)' % (self.provider.rec_name, self.key_id)

    @classmethod
    def read(cls, ids, fields_names):
        # the secrets never leave the server once created
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
    def create(cls, vlist):
        vlist = [v.copy() for v in vlist]
        for values in vlist:
            values.setdefault('sm4_key', None)
            if not values['sm4_key']:
                values['sm4_key'] = secrets.token_hex(16)
            if not values.get('hmac_secret'):
                values['hmac_secret'] = secrets.token_hex(32)
            for name in ['sm4_key', 'hmac_secret']:
                values[name] = _seal_secret(name, values[name])
        return super().create(vlist)

    @classmethod
    def copy(cls, credentials, default=None):
        default = dict(default or {})
        for name in cls._secret_fields + ['key_id', 'last_used']:
            default.setdefault(name, None)
        default['key_id'] = None
        return super().copy(credentials, default=default)

    @classmethod
    def validate_fields(cls, credentials, field_names):
        super().validate_fields(credentials, field_names)
        if field_names and 'sm2_public_key' not in field_names:
            return
        for credential in credentials:
            if credential.sm2_public_key:
                try:
                    gmssl_pyx.normalize_sm2_public_key(
                        credential.sm2_public_key)
                except Exception:
                    from trytond.model.exceptions import ValidationError
                    raise ValidationError(gettext(
                            'elder_security.msg_credential_public_key',
                            credential=credential.rec_name))

    def _secrets(self):
        "(sm4 key bytes, hmac secret bytes) read from the table"
        cursor = Transaction().connection.cursor()
        table = self.__table__()
        cursor.execute(*table.select(
                table.sm4_key, table.hmac_secret,
                where=table.id == self.id))
        sm4_key, hmac_secret = (
            _reveal_secret(name, value) for name, value in zip(
                ['sm4_key', 'hmac_secret'], cursor.fetchone()))
        return bytes.fromhex(sm4_key), bytes.fromhex(hmac_secret)

    @classmethod
    def renew_secrets(cls, credentials):
        """Give new SM4 key and HMAC secret to credentials; return
        {id: (sm4 key hex, hmac secret hex)} to hand over once."""
        result = {}
        for credential in credentials:
            sm4_key = secrets.token_hex(16)
            hmac_secret = secrets.token_hex(32)
            cls.write([credential], {
                    'sm4_key': _seal_secret('sm4_key', sm4_key),
                    'hmac_secret': _seal_secret('hmac_secret', hmac_secret),
                    })
            result[credential.id] = (sm4_key, hmac_secret)
        return result

    @classmethod
    def get_by_key_id(cls, key_id):
        with without_check_access():
            credentials = cls.search([
                    ('key_id', '=', key_id),
                    ('active', '=', True),
                    ], limit=1)
        return credentials[0] if credentials else None

    def verify(self, message, signature):
        "True when signature (bytes) of message is valid"
        sm4_key, hmac_secret = self._secrets()
        if self.signature_method == 'hmac_sm3':
            expected = gmssl_pyx.sm3_hmac(hmac_secret, message)
            return hmac.compare_digest(expected, signature)
        try:
            public_key = gmssl_pyx.normalize_sm2_public_key(
                self.sm2_public_key)
            return bool(gmssl_pyx.sm2_verify(
                    public_key, message, signature, SM2_SIGNER_ID))
        except Exception:
            return False

    def decrypt(self, iv, ciphertext, tag, additional):
        sm4_key, _ = self._secrets()
        return gmssl_pyx.sm4_gcm_decrypt(
            sm4_key, iv, additional, ciphertext, tag)


class ProviderNonce(ModelSQL):
    "Nonce seen from a provider, kept until it can no longer be replayed"
    __name__ = 'security.provider.nonce'

    credential = fields.Many2One(
        'security.provider.credential', "Credential", required=True,
        ondelete='CASCADE')
    nonce = fields.Char("Nonce", required=True, strip=False)
    expires_at = fields.Timestamp("Expires At", required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__rpc__ = {}
        t = cls.__table__()
        cls._sql_constraints += [
            ('credential_nonce_uniq', Unique(t, t.credential, t.nonce),
                'elder_security.msg_report_replay'),
            ]
        cls._sql_indexes.add(Index(t, (t.expires_at, Index.Range())))

    @classmethod
    def use(cls, credential, nonce, window):
        """Record nonce for credential; return False if already seen.
        Expired nonces are forgotten: their timestamps are refused anyway."""
        now = datetime.datetime.now()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.delete(where=table.expires_at < now))
        with without_check_access():
            if cls.search([
                        ('credential', '=', credential.id),
                        ('nonce', '=', nonce),
                        ], limit=1):
                return False
            cls.create([{
                        'credential': credential.id,
                        'nonce': nonce,
                        'expires_at': now + datetime.timedelta(
                            seconds=2 * window),
                        }])
        return True


class ProviderReport(ModelSQL, ModelView):
    "Provider report (服务机构上报记录)"
    __name__ = 'security.provider.report'
    # The payload is a service record about an older person
    _sensitivity = {'payload': 'personal', 'payload_hash': 'internal'}

    provider = fields.Many2One(
        'party.party', "Provider", required=True, readonly=True,
        ondelete='RESTRICT')
    credential = fields.Many2One(
        'security.provider.credential', "Credential", readonly=True,
        ondelete='SET NULL')
    record_id = fields.Char("Record ID", required=True, readonly=True)
    kind = fields.Char("Kind", required=True, readonly=True)
    occurred_at = fields.Timestamp("Occurred At", readonly=True)
    received_at = fields.Timestamp("Received At", required=True, readonly=True)
    payload = fields.Text("Payload", required=True, readonly=True)
    payload_hash = fields.Char("Payload SM3", required=True, readonly=True)
    receipt = fields.Char("Receipt", required=True, readonly=True)
    state = fields.Selection([
            ('pending', "Pending"),
            ('consumed', "Consumed"),
            ], "State", required=True, readonly=True)
    consumed_at = fields.Timestamp("Consumed At", readonly=True)
    origin = fields.Char(
        "Origin", readonly=True,
        help="The record created from this report (model,id).")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('provider_record_uniq', Unique(t, t.provider, t.record_id),
                'elder_security.msg_report_record_unique'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    (t.kind, Index.Equality())),
                })
        cls._order = [('received_at', 'DESC'), ('id', 'DESC')]

    @staticmethod
    def default_state():
        return 'pending'

    def get_rec_name(self, name):
        return '%s/%s' % (self.provider.rec_name, self.record_id)

    # -- receiving -------------------------------------------------------

    @classmethod
    def receive(cls, headers, path, body, now=None):
        """Check and store one pushed record.

        Return (HTTP status, JSON dict); refused pushes are answered with the
        status and the error of the ReportError raised by the checks."""
        try:
            return cls._receive(headers, path, body, now=now)
        except ReportError as error:
            logger.info("provider report refused: %s %s",
                error.status, error.code)
            from .separation import audit_log
            audit_log('data_exchange', cls.__name__, result='failure',
                details={
                    'key_id': headers.get('X-Key-Id'),
                    'status': error.status, 'error': error.code})
            return error.status, error.to_json()

    @classmethod
    def _receive(cls, headers, path, body, now=None):
        pool = Pool()
        Credential = pool.get('security.provider.credential')
        Nonce = pool.get('security.provider.nonce')
        Configuration = pool.get('security.configuration')
        window = Configuration.get_values()['report_time_window']
        if gmssl_pyx is None:  # pragma: no cover
            raise ReportError(503, 'unavailable', 'gmssl-pyx is missing')
        if now is None:
            now = datetime.datetime.now()

        key_id = headers.get('X-Key-Id') or ''
        timestamp = headers.get('X-Timestamp') or ''
        nonce = headers.get('X-Nonce') or ''
        signature = headers.get('X-Signature') or ''
        if not (key_id and timestamp and nonce and signature):
            raise ReportError(401, 'missing_credentials',
                gettext('elder_security.msg_report_missing_headers'))
        credential = Credential.get_by_key_id(key_id)
        if not credential:
            raise ReportError(401, 'unknown_key',
                gettext('elder_security.msg_report_unknown_key'))
        try:
            sent = datetime.datetime.fromtimestamp(int(timestamp))
        except (ValueError, OverflowError, OSError):
            sent = None
        if sent is None or abs((now - sent).total_seconds()) > window:
            raise ReportError(401, 'stale_timestamp',
                gettext('elder_security.msg_report_stale_timestamp',
                    window=window))
        if not NONCE.match(nonce):
            raise ReportError(401, 'bad_nonce',
                gettext('elder_security.msg_report_bad_nonce'))
        try:
            signature = base64.b64decode(signature, validate=True)
        except (binascii.Error, ValueError):
            signature = b''
        message = string_to_sign(path, key_id, timestamp, nonce, body)
        if not signature or not credential.verify(message, signature):
            raise ReportError(401, 'bad_signature',
                gettext('elder_security.msg_report_bad_signature'))
        if not Nonce.use(credential, nonce, window):
            raise ReportError(409, 'replay',
                gettext('elder_security.msg_report_replay'))
        with without_check_access():
            Credential.write([credential], {'last_used': now})

        try:
            envelope = json.loads(body)
            iv, ciphertext, tag = (
                base64.b64decode(envelope[k], validate=True)
                for k in ['iv', 'ciphertext', 'tag'])
            plaintext = credential.decrypt(
                iv, ciphertext, tag, aad(key_id, timestamp, nonce))
        except Exception:
            raise ReportError(400, 'decryption_failed',
                gettext('elder_security.msg_report_decryption'))
        try:
            record = json.loads(plaintext.decode('utf-8'))
        except (UnicodeDecodeError, ValueError):
            record = None
        if not isinstance(record, dict):
            raise ReportError(422, 'invalid_record',
                gettext('elder_security.msg_report_invalid'),
                fields={'': gettext('elder_security.msg_report_not_object')})
        errors = cls.validate_record(record, now)
        if errors:
            raise ReportError(422, 'invalid_record',
                gettext('elder_security.msg_report_invalid'),
                fields=errors)
        return cls._store(credential, record, now)

    @classmethod
    def _store(cls, credential, record, now):
        payload = canonical_json(record)
        payload_hash = sm3_hex(payload.encode('utf-8'))
        provider = credential.provider
        with without_check_access():
            existing = cls.search([
                    ('provider', '=', provider.id),
                    ('record_id', '=', record['record_id']),
                    ], limit=1)
            if existing:
                report, = existing
                if report.payload_hash != payload_hash:
                    raise ReportError(409, 'conflict',
                        gettext('elder_security.msg_report_conflict',
                            record_id=record['record_id']),
                        receipt=report.receipt)
                return 200, dict(report.receipt_json(), duplicate=True)
            report, = cls.create([{
                        'provider': provider.id,
                        'credential': credential.id,
                        'record_id': record['record_id'],
                        'kind': record['kind'],
                        'occurred_at': cls._parse_datetime(
                            record['occurred_at']),
                        'received_at': now,
                        'payload': payload,
                        'payload_hash': payload_hash,
                        'receipt': uuid.uuid4().hex,
                        }])
        from .separation import audit_log
        audit_log('data_exchange', report, details={
                'key_id': credential.key_id,
                'record_id': report.record_id, 'kind': report.kind})
        cls.received([report])
        return 201, dict(report.receipt_json(), duplicate=False)

    def receipt_json(self):
        return {
            'status': 'accepted',
            'receipt': self.receipt,
            'record_id': self.record_id,
            'received_at': self.received_at.isoformat(),
            }

    @staticmethod
    def _parse_datetime(value):
        "Naive UTC-free local datetime of an ISO 8601 string"
        value = datetime.datetime.fromisoformat(value)
        if value.tzinfo is not None:
            value = value.astimezone().replace(tzinfo=None)
        return value

    @classmethod
    def report_kinds(cls):
        """The accepted kinds, or None for any well-formed kind.
        elder_service returns the kinds it consumes."""
        return None

    @classmethod
    def validate_record(cls, record, now):
        "Return {field: error} for the record (empty when valid)"
        errors = {}
        record_id = record.get('record_id')
        if not record_id:
            errors['record_id'] = gettext('elder_security.msg_report_required')
        elif not isinstance(record_id, str) or not RECORD_ID.match(record_id):
            errors['record_id'] = gettext(
                'elder_security.msg_report_record_id')
        kind = record.get('kind')
        kinds = cls.report_kinds()
        if not kind:
            errors['kind'] = gettext('elder_security.msg_report_required')
        elif (not isinstance(kind, str) or not KIND.match(kind)
                or (kinds is not None and kind not in kinds)):
            errors['kind'] = gettext('elder_security.msg_report_kind')
        occurred_at = record.get('occurred_at')
        if not occurred_at:
            errors['occurred_at'] = gettext(
                'elder_security.msg_report_required')
        else:
            try:
                when = cls._parse_datetime(occurred_at)
            except (TypeError, ValueError):
                errors['occurred_at'] = gettext(
                    'elder_security.msg_report_datetime')
            else:
                if when > now + datetime.timedelta(minutes=5):
                    errors['occurred_at'] = gettext(
                        'elder_security.msg_report_future')
        if 'data' not in record:
            errors['data'] = gettext('elder_security.msg_report_required')
        elif not isinstance(record['data'], dict):
            errors['data'] = gettext('elder_security.msg_report_not_object')
        return errors

    # -- consuming (hook for elder_service) ---------------------------------

    @classmethod
    def received(cls, reports):
        """Called in the receiving transaction for new reports.

        Override to consume at once (or queue the consumption); the default
        leaves them pending for ``consume_pending``."""

    @classmethod
    def pending(cls, kinds=None, limit=None):
        domain = [('state', '=', 'pending')]
        if kinds:
            domain.append(('kind', 'in', list(kinds)))
        with without_check_access():
            return cls.search(domain, order=[('id', 'ASC')], limit=limit)

    def data(self):
        "The decrypted record as a dict"
        return json.loads(self.payload)

    @classmethod
    def process(cls, reports):
        """Consume the reports that a module knows: for each report whose
        model has a method ``_consume_<kind>(self)`` (dots replaced by
        underscores) that returns the created record (or True), mark it
        consumed. Return the consumed reports."""
        consumed = []
        for report in reports:
            method = getattr(
                report, '_consume_%s' % report.kind.replace('.', '_'), None)
            if method is None:
                continue
            result = method()
            if result:
                origin = None
                if hasattr(result, '__name__') and getattr(
                        result, 'id', None):
                    origin = '%s,%s' % (result.__name__, result.id)
                cls.mark_consumed([report], origin=origin)
                consumed.append(report)
        return consumed

    @classmethod
    def mark_consumed(cls, reports, origin=None):
        with without_check_access():
            cls.write(reports, {
                    'state': 'consumed',
                    'consumed_at': datetime.datetime.now(),
                    'origin': origin,
                    })

    @classmethod
    def consume_pending(cls):
        "Cron entry point: consume every pending report"
        return cls.process(cls.pending())


class CredentialSecrets(ModelView):
    "Credential secrets, shown once"
    __name__ = 'security.provider.credential.secrets'
    _sensitivity = {
        'key_id': 'internal', 'sm4_key': 'sensitive', 'hmac_secret': 'sensitive'}

    key_id = fields.Char("Key ID", readonly=True)
    sm4_key = fields.Char("SM4 Key (hex)", readonly=True)
    hmac_secret = fields.Char("HMAC-SM3 Secret (hex)", readonly=True)


class RenewSecrets(Wizard):
    "Issue new secrets to a provider credential and show them once"
    __name__ = 'security.provider.credential.renew'

    start_state = 'renew'
    renew = StateTransition()
    show = StateView(
        'security.provider.credential.secrets',
        'elder_security.credential_secrets_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def transition_renew(self):
        Credential = Pool().get('security.provider.credential')
        Credential.renew_secrets([self.record])
        return 'show'

    def default_show(self, fields):
        # the wizard is not stored: recompute from the table once
        credential = self.record
        sm4_key, hmac_secret = credential._secrets()
        return {
            'key_id': credential.key_id,
            'sm4_key': sm4_key.hex(),
            'hmac_secret': hmac_secret.hex(),
            }


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.append(
            ('security.provider.report|consume_pending',
                "Consume Provider Reports"))


# The credentials' secrets are stored SM4-GCM encrypted with the platform's
# field key (crypto.Keyring), like the personal data: a database dump alone
# does not let anyone forge a provider's pushes.
def _seal_secret(name, value):
    from .crypto import Keyring
    return Keyring.get().encrypt(value, 'security.provider.credential,' + name)


def _reveal_secret(name, value):
    from .crypto import Keyring
    return Keyring.get().decrypt(value, 'security.provider.credential,' + name)

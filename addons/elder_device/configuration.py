# This file is part of the eldercare platform. See LICENSE.
"""Configuration of elder_device: the NB-IoT platforms' push tokens and the
maintenance service levels.

The tokens are secrets shared with OneNET and CTWing: stored encrypted
(SM4-GCM with elder_security's key file), writable, never read back (the
client sees whether one is set, not its value)."""
import hmac

from trytond.model import ModelSingleton, ModelSQL, ModelView, fields
from trytond.modules.elder_security.crypto import Keyring
from trytond.transaction import Transaction

TOKENS = ('onenet_token', 'ctwing_token')
MASK = '********'


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Device Configuration"
    __name__ = 'device.configuration'
    onenet_token = fields.Function(fields.Char(
            "OneNET Token",
            help="The token of the OneNET HTTP push (signature = "
            "base64(md5(token + nonce + msg))). Write only."),
        'get_token', setter='set_token')
    onenet_token_enc = fields.Char("OneNET Token (Encrypted)", readonly=True)
    ctwing_token = fields.Function(fields.Char(
            "CTWing Token",
            help="Shared secret in the CTWing push URL (?token=…). "
            "Write only."),
        'get_token', setter='set_token')
    ctwing_token_enc = fields.Char("CTWing Token (Encrypted)", readonly=True)
    repair_sla_hours = fields.Integer(
        "On-site Deadline", required=True,
        help="Hours from a fault report to the technician's arrival "
        "(standard 7.3.6: 48).")
    repair_warning_hours = fields.Integer(
        "Escalation Warning", required=True,
        help="Escalate a repair that has fewer hours than this left.")
    return_visit_days = fields.Integer(
        "Return Visit After", required=True,
        help="Days after a repair when the return visit is planned "
        "(standard 7.3.5).")

    _sensitivity = {
        'onenet_token': 'internal', 'onenet_token_enc': 'internal',
        'ctwing_token': 'internal', 'ctwing_token_enc': 'internal',
        }

    @staticmethod
    def default_repair_sla_hours():
        return 48

    @staticmethod
    def default_repair_warning_hours():
        return 6

    @staticmethod
    def default_return_visit_days():
        return 7

    @classmethod
    def get_token(cls, records, name):
        return {r.id: MASK if getattr(r, name + '_enc') else None
            for r in records}

    @classmethod
    def set_token(cls, records, name, value):
        if value == MASK:
            return
        enc = Keyring.get().encrypt(value, cls._aad(name)) if value else None
        cls.write(list(records), {name + '_enc': enc})

    @classmethod
    def _aad(cls, name):
        return '%s,%s' % (cls.__name__, name)

    @classmethod
    def read(cls, ids, fields_names):
        # The ciphertexts are not for clients either
        hidden = {n + '_enc' for n in TOKENS}
        result = super().read(ids, fields_names)
        for row in result:
            for name in hidden & set(row):
                row[name] = None
        return result

    @classmethod
    def token(cls, name):
        "The plain token (for the receivers only; read() hides it)"
        if name not in TOKENS:
            raise ValueError(name)
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        cursor.execute(*table.select(
                getattr(table, name + '_enc'), order_by=table.id, limit=1))
        row = cursor.fetchone()
        if not row or not row[0]:
            return None
        return Keyring.get().decrypt(row[0], cls._aad(name))

    @classmethod
    def check_token(cls, name, given):
        "Constant-time comparison of a token given by a caller"
        expected = cls.token(name)
        if not expected or not given:
            return False
        return hmac.compare_digest(
            expected.encode('utf-8'), given.encode('utf-8'))

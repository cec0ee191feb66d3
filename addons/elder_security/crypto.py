# This file is part of the eldercare platform. See LICENSE.
"""Personal data at rest: SM4-GCM field encryption with a keyed blind index.

A model mixes in EncryptedMixin and declares each protected field as a
Function field (getter 'get_encrypted_value' — or 'get_encrypted', which
takes several names but makes a record attribute decrypt every field of the
getter —, setter 'set_encrypted', searcher 'search_encrypted') backed by two
stored columns:

    <name>_enc   'v1:<key id>:<base64(nonce | ciphertext | tag)>' (SM4-GCM,
                 additional data '<model>.<field>:<record id>' so a value
                 cannot be moved to another row or field)
    <name>_bidx  hex HMAC-SM3 of the normalised value (exact-match search
                 and uniqueness), only for the fields listed in
                 _encrypted_indexed

and lists it in _encrypted_fields {name: mask kind or None}. The database
never holds the plaintext. Values read through the API (Model.read with
access checks: web client, exports, proteus, JSON-RPC) are masked for every
user; server code (record attributes, which read without access checks)
sees the plaintext. The "Show Full Data" wizard (masking.py) reveals a
record's values to the members of group_personal_data_full and audits it.

Keys live outside the database in the JSON file [elder_security] key_file
(default var/elder_security.keys, generated when missing):

    {"active": "k2", "keys": {"k1": "<32 hex>", "k2": "<32 hex>"},
     "index_key": "<64 hex>"}

Rotation: add a key and make it active (rotate_keys --new-key), then
re-encrypt (rotate_keys); the old key may be removed once nothing uses it.
"""
import base64
import json
import logging
import os
import secrets
import threading

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, hmac
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from sql import Null
from sql.operators import Equal

from trytond.config import config
from trytond.i18n import gettext
from trytond.model import Unique
from trytond.model.exceptions import SQLConstraintError
from trytond.pool import Pool
from trytond.model.fields import SQL_OPERATORS
from trytond.tools import grouped_slice
from trytond.transaction import Transaction

from .masking import mask_value

try:
    import gmssl_pyx  # SM4-GCM in C: about 4 times faster than cryptography's
except ImportError:  # pragma: no cover
    gmssl_pyx = None

logger = logging.getLogger(__name__)

DEFAULT_KEY_FILE = os.path.join('var', 'elder_security.keys')
VERSION = 'v1'
# ids per query: trytond 8's grouped_slice without a size slices one by one
IN_MAX = 1000
NONCE_SIZE = 12
TAG_SIZE = 16


class KeyError_(Exception):
    "The key file is missing a key or is not readable"


def key_file_path():
    return os.path.abspath(
        config.get('elder_security', 'key_file', default=DEFAULT_KEY_FILE))


def new_key():
    return secrets.token_hex(16)  # SM4: 128-bit key


def generate_key_file(path):
    "Write a new key file (mode 0600) and return its content"
    data = {
        'active': 'k1',
        'keys': {'k1': new_key()},
        'index_key': secrets.token_hex(32),
        }
    write_key_file(path, data)
    logger.warning("generated a new field-encryption key file %s", path)
    return data


def write_key_file(path, data):
    directory = os.path.dirname(path)
    if directory:
        os.makedirs(directory, exist_ok=True)
    tmp = path + '.tmp'
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as file:
        json.dump(data, file, indent=2)
    os.replace(tmp, path)


class Keyring:
    "The keys of the key file (reloaded when the file changes)"
    _lock = threading.Lock()
    _cache = {}

    def __init__(self, data):
        self.active = data['active']
        self.keys = {k: bytes.fromhex(v) for k, v in data['keys'].items()}
        self.index_key = bytes.fromhex(data['index_key'])
        if self.active not in self.keys:
            raise KeyError_("active key %r not in the key file" % self.active)
        for key in self.keys.values():
            if len(key) != 16:
                raise KeyError_("SM4 keys are 16 bytes")

    @classmethod
    def get(cls):
        path = key_file_path()
        with cls._lock:
            try:
                mtime = os.stat(path).st_mtime_ns
            except FileNotFoundError:
                generate_key_file(path)
                mtime = os.stat(path).st_mtime_ns
            cached = cls._cache.get(path)
            if cached and cached[0] == mtime:
                return cached[1]
            with open(path) as file:
                keyring = cls(json.load(file))
            cls._cache[path] = (mtime, keyring)
            return keyring

    @classmethod
    def clear(cls):
        with cls._lock:
            cls._cache.clear()

    def encrypt(self, plaintext, aad):
        key_id = self.active
        nonce = os.urandom(NONCE_SIZE)
        encryptor = Cipher(
            algorithms.SM4(self.keys[key_id]), modes.GCM(nonce)).encryptor()
        encryptor.authenticate_additional_data(aad.encode('utf-8'))
        data = encryptor.update(plaintext.encode('utf-8')) + encryptor.finalize()
        blob = base64.b64encode(nonce + data + encryptor.tag).decode('ascii')
        return '%s:%s:%s' % (VERSION, key_id, blob)

    def decrypt(self, token, aad):
        version, key_id, blob = token.split(':', 2)
        if version != VERSION:
            raise KeyError_("unknown ciphertext version %r" % version)
        if key_id not in self.keys:
            raise KeyError_("key %r is not in the key file" % key_id)
        raw = base64.b64decode(blob)
        nonce, data, tag = (
            raw[:NONCE_SIZE], raw[NONCE_SIZE:-TAG_SIZE], raw[-TAG_SIZE:])
        if gmssl_pyx is not None and data:
            try:
                plain = gmssl_pyx.sm4_gcm_decrypt(
                    self.keys[key_id], nonce, aad.encode('utf-8'), data, tag)
            except Exception as error:
                # the same exception as with cryptography's SM4-GCM
                raise InvalidTag() from error
            return plain.decode('utf-8')
        decryptor = Cipher(
            algorithms.SM4(self.keys[key_id]), modes.GCM(nonce, tag)
            ).decryptor()
        decryptor.authenticate_additional_data(aad.encode('utf-8'))
        return (decryptor.update(data) + decryptor.finalize()).decode('utf-8')

    def blind_index(self, kind, value):
        mac = hmac.HMAC(self.index_key, hashes.SM3())
        mac.update(kind.encode('utf-8') + b'\x00' + value.encode('utf-8'))
        return mac.finalize().hex()


def key_id_of(token):
    return token.split(':', 2)[1] if token else None


class _Prefetch(threading.local):
    """Per thread: {model name: (transaction, encrypted field names, {id:
    {name: ciphertext}})} of the read() in progress (no write happens inside
    a read, so the ciphertexts stay current for its duration)"""

    def __init__(self):
        self.models = {}

    def get(self, key):
        return self.models.get(key)

    def set(self, key, value):
        if value is None:
            self.models.pop(key, None)
        else:
            self.models[key] = value


_prefetch = _Prefetch()


class EncryptedMixin:
    """Mix into a ModelSQL with Function fields backed by <name>_enc and
    <name>_bidx columns (see the module docstring)."""
    __slots__ = ()
    # field name -> mask kind ('citizen_id', 'phone' or None: no mask)
    _encrypted_fields = {}
    # field name -> blind index kind (fields searchable by exact value)
    _encrypted_indexed = {}

    @classmethod
    def __register__(cls, module_name):
        # Migration from plaintext columns: keep the values, drop the
        # columns (and their constraints) before the new ones are made.
        backend_table = cls.__table_handler__(module_name)
        cursor = Transaction().connection.cursor()
        table = cls.__table__()
        plain = {}
        if backend_table.table_exist(cls._table):
            for name in cls._encrypted_fields:
                if (backend_table.column_exist(name)
                        and not backend_table.column_exist(name + '_enc')):
                    column = getattr(table, name)
                    cursor.execute(*table.select(
                            table.id, column, where=column != Null))
                    plain[name] = cursor.fetchall()
                    backend_table.drop_column(name)
        super().__register__(module_name)
        for name, rows in plain.items():
            logger.info(
                "encrypting %s rows of %s.%s", len(rows), cls.__name__, name)
            for id_, value in rows:
                cls._encrypted_write(id_, name, str(value))

    @classmethod
    def _encrypted_aad(cls, name, id_):
        return '%s.%s:%s' % (cls.__name__, name, id_)

    @classmethod
    def encrypted_normalize(cls, name, value):
        "Return the value as stored and indexed (override per field)"
        if isinstance(value, str):
            value = value.strip()
        return value

    @classmethod
    def blind_index(cls, name, value):
        if value is None or value == '':
            return None
        value = cls.encrypted_normalize(name, value)
        return Keyring.get().blind_index(
            cls._encrypted_indexed[name], str(value))

    @classmethod
    def _encrypted_write(cls, id_, name, value):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [getattr(table, name + '_enc')]
        if value is None or value == '':
            values = [None]
        else:
            value = cls.encrypted_normalize(name, value)
            values = [Keyring.get().encrypt(
                    str(value), cls._encrypted_aad(name, id_))]
        if name in cls._encrypted_indexed:
            index = cls.blind_index(name, value)
            columns.append(getattr(table, name + '_bidx'))
            values.append(index)
            if index:
                cls._encrypted_check_unique(id_, name, index)
        cursor.execute(*table.update(columns, values, where=table.id == id_))

    @classmethod
    def _encrypted_check_unique(cls, id_, name, index):
        "Raise the message of the unique constraint on <name>_bidx"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        column = name + '_bidx'
        for _, constraint, message in cls._sql_constraints:
            if not isinstance(constraint, Unique):
                continue
            names = [getattr(c, 'name', None) for c in constraint.columns]
            if names != [column]:
                continue
            cursor.execute(*table.select(
                    table.id,
                    where=(getattr(table, column) == index)
                    & (table.id != id_),
                    limit=1))
            if cursor.fetchone():
                raise SQLConstraintError(gettext(message))

    @classmethod
    def _encrypted_decrypt(cls, name, id_, token, keyring=None):
        if not token:
            return None
        field = cls._fields[name]
        text = (keyring or Keyring.get()).decrypt(
            token, cls._encrypted_aad(name, id_))
        py_type = getattr(field._field, '_py_type', None)
        if py_type and py_type is not str:
            return py_type(text)
        return text

    @classmethod
    def _encrypted_tokens(cls, ids, names):
        "{id: {name: ciphertext}} of the records (one query per 1000 ids)"
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        columns = [getattr(table, n + '_enc') for n in names]
        tokens = {}
        for sub_ids in grouped_slice(ids, IN_MAX):
            cursor.execute(*table.select(
                    table.id, *columns,
                    where=SQL_OPERATORS['in'](table.id, list(sub_ids))))
            for id_, *values in cursor:
                tokens[id_] = dict(zip(names, values))
        return tokens

    @classmethod
    def get_encrypted(cls, records, names):
        """The plaintext of the fields names of the records:
        {name: {id: value}} (server code; read() masks it for the API)"""
        keyring = Keyring.get()
        ids = [r.id for r in records]
        tokens = cls._encrypted_tokens(ids, names)
        result = {}
        for name in names:
            result[name] = values = {}
            for id_ in ids:
                token = tokens.get(id_, {}).get(name)
                values[id_] = cls._encrypted_decrypt(
                    name, id_, token, keyring) if token else None
        return result

    @classmethod
    def get_encrypted_value(cls, records, name):
        """Function getter of one encrypted field: a record attribute
        (record.phone) decrypts that field only, not every encrypted field
        of the record (as a getter of several names would: trytond loads
        all the fields of a multiple getter at once). In a read() of several
        encrypted fields, the ciphertexts of all of them are fetched by the
        first call, in one query (_prefetch)."""
        prefetch = _prefetch.get(cls.__name__)
        if (prefetch is None or name not in prefetch[1]
                or prefetch[0] is not Transaction()):
            return cls.get_encrypted(records, [name])[name]
        _, names, tokens = prefetch
        ids = [r.id for r in records]
        missing = [i for i in ids if i not in tokens]
        if missing:
            tokens.update(cls._encrypted_tokens(missing, sorted(names)))
        keyring = Keyring.get()
        values = {}
        for id_ in ids:
            token = tokens.get(id_, {}).get(name)
            values[id_] = cls._encrypted_decrypt(
                name, id_, token, keyring) if token else None
        return values

    @classmethod
    def set_encrypted(cls, records, name, value):
        "Function setter: encrypt (and index) the value"
        kind = cls._encrypted_fields.get(name)
        for record in records:
            if (kind and isinstance(value, str) and '*' in value):
                # The masked value sent back unchanged by a client
                current = cls.get_encrypted([record], [name])[name][record.id]
                if current and mask_value(kind, current) == value:
                    continue
            cls._encrypted_write(record.id, name, value)

    @classmethod
    def search_encrypted(cls, name, clause):
        """Exact-match search through the blind index: '=', '!=', 'in',
        'not in', and like operators on a whole value (sao's search box
        sends '%value%')"""
        _, operator, operand, *_ = clause
        column = name + '_bidx'
        negative = operator.startswith(('!', 'not '))
        if operator in {'=', '!='}:
            operands = [operand]
        elif operator in {'in', 'not in'}:
            operands = list(operand or [])
        elif operator.endswith('like'):
            text = (operand or '').strip('%')
            operands = [text] if text and '%' not in text and (
                '_' not in text) else []
            if not text:  # '%%' matches every non-empty value
                return [(column, '!=' if not negative else '=', None)]
        else:
            # Encrypted values have no order: nothing matches
            return [('id', '=', None)]
        indexes = []
        nulls = False
        for value in operands:
            if value is None or value == '':
                nulls = True
            else:
                indexes.append(cls.blind_index(name, value))
        if not negative:
            domain = ['OR', (column, 'in', indexes)]
            if nulls:
                domain.append((column, '=', None))
            return domain
        domain = ['OR', (column, 'not in', indexes), (column, '=', None)]
        if nulls:
            domain = [(column, 'not in', indexes), (column, '!=', None)]
        return domain

    @classmethod
    def existing_values(cls, name, values):
        """Return the values of the indexed field name that some record
        holds already (any record: uniqueness is global)"""
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        column = getattr(table, name + '_bidx')
        indexes = {}
        for value in values:
            if value:
                indexes.setdefault(cls.blind_index(name, value), []).append(
                    value)
        found = set()
        for sub in grouped_slice(sorted(indexes), 1000):
            cursor.execute(*table.select(column, where=column.in_(list(sub))))
            for index, in cursor:
                found.update(indexes.get(index, []))
        return found

    @classmethod
    def read(cls, ids, fields_names):
        encrypted = {n for n in fields_names if n in cls._encrypted_fields}
        key = cls.__name__
        if len(encrypted) > 1:
            # the getters of this read share one query of the ciphertexts
            previous = _prefetch.get(key)
            _prefetch.set(key, (Transaction(), encrypted, {}))
            try:
                result = super().read(ids, fields_names)
            finally:
                _prefetch.set(key, previous)
        else:
            result = super().read(ids, fields_names)
        if Transaction().check_access:
            masked = [
                (n, k) for n, k in cls._encrypted_fields.items()
                if k and n in fields_names]
            hidden = [
                n for n in fields_names
                if n.endswith(('_enc', '_bidx'))
                and n.rsplit('_', 1)[0] in cls._encrypted_fields]
            if masked or hidden:
                for values in result:
                    for name, kind in masked:
                        values[name] = mask_value(kind, values.get(name))
                    for name in hidden:
                        values[name] = None
        return result

    @classmethod
    def copy(cls, records, default=None):
        # A ciphertext is bound to its row: never copy it.
        default = dict(default or {})
        for name in cls._encrypted_fields:
            default.setdefault(name + '_enc', None)
            if name in cls._encrypted_indexed:
                default.setdefault(name + '_bidx', None)
        return super().copy(records, default=default)

    @classmethod
    def encrypted_plain(cls, records, names):
        "Return {id: {name: plaintext}} (for server code and the wizard)"
        values = cls.get_encrypted(records, names)
        return {r.id: {n: values[n][r.id] for n in names} for r in records}

    @classmethod
    def rotate_encryption(cls, batch=500):
        """Re-encrypt the values not encrypted with the active key and
        recompute the blind indexes; return the number of values changed"""
        keyring = Keyring.get()
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        count = 0
        for name in cls._encrypted_fields:
            column = getattr(table, name + '_enc')
            cursor.execute(*table.select(
                    table.id, column, where=column != Null,
                    order_by=[table.id]))
            rows = cursor.fetchall()
            for id_, token in rows:
                plain = cls._encrypted_decrypt(name, id_, token)
                if key_id_of(token) != keyring.active:
                    cls._encrypted_write(id_, name, plain)
                    count += 1
                elif name in cls._encrypted_indexed:
                    index = cls.blind_index(name, plain)
                    bidx = getattr(table, name + '_bidx')
                    cursor.execute(*table.update(
                            [bidx], [index],
                            where=(table.id == id_)
                            & ~Equal(bidx, index)))
        return count


def encrypted_models():
    "The models of the pool that hold encrypted fields"
    pool = Pool()
    return [
        Model for _, Model in pool.iterobject()
        if isinstance(Model, type) and issubclass(Model, EncryptedMixin)
        and getattr(Model, '_encrypted_fields', None)
        and not getattr(Model, '__abstract__', False)]


def rotate(database_name, new_key_id=None):
    """Re-encrypt every encrypted field of the database with the active key
    (after adding new_key_id as the active key if given)"""
    from trytond.pool import Pool as Pool_
    if new_key_id:
        add_key(new_key_id)
    Keyring.clear()
    pool = Pool_(database_name)
    pool.init()
    total = 0
    with Transaction().start(database_name, 0) as transaction:
        for Model in encrypted_models():
            count = Model.rotate_encryption()
            logger.info("%s: %s values re-encrypted", Model.__name__, count)
            total += count
        transaction.commit()
    return total


def add_key(key_id):
    "Add a new active key to the key file"
    path = key_file_path()
    Keyring.get()  # generate the file if missing
    with open(path) as file:
        data = json.load(file)
    if key_id in data['keys']:
        raise KeyError_("key %r exists already" % key_id)
    data['keys'][key_id] = new_key()
    data['active'] = key_id
    write_key_file(path, data)
    Keyring.clear()

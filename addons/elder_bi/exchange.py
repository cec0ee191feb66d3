# This file is part of the eldercare platform. See LICENSE.
"""Data exchange with the level below, other departments and the level
above (standard §5.2).

Import (``bi.import``): a CSV, Excel or JSON file from public security or
health (deaths), civil affairs (低保 status) or a lower-level platform,
read through a mapping (``bi.import.mapping``: which column holds the ID
number, the name, the date, the status, and which status values mean
on/off). *Check* reads the whole file first: every row's ID number is
checked to GB 11643, dates parse and are not in the future, statuses are
known, no ID number appears twice; one bad row rejects the file with a
per-row report and nothing changes. Rows are matched to older people by ID
number through elder_base's blind index (``id_number`` search: the number
is never compared in clear in the database) and within the user's record
rule scope. The lines are the report of what would change (deaths, 低保
granted or stopped, unchanged, not on the platform); *Apply* does it
(``elder.elder.deceased`` — which stops services and devices — and the 低保
category) and audits it.

Upload (``bi.upload.target``, ``bi.upload.record``): records of the
national elderly-care data sets (``DATASETS``: field mapping from the
platform's models) pushed to the platform of the level above. Each record
has an idempotent id ``<platform code>:<data set>:<source id>`` and a
version (SM3 of its canonical JSON): the receiver answers the same receipt
for the same id and version. The request follows the provider reporting
interface of elder_security (same string to sign, same additional data):
the record is encrypted with SM4-GCM under the target's key and signed with
SM2 by the platform's private key; the receiver's receipt is signed by its
SM2 key and verified before it is stored. Failures are retried with
exponential backoff (``retry_base`` × 2^attempts, at most
``max_attempts``); 4xx answers other than 408/409/429 reject the record
(no retry). ``bi.upload.reconcile`` counts the records per target, data set
and state, and *Reconcile* asks the receiver for the receipts it holds and
sends again what it lacks.
"""
import base64
import csv
import datetime as dt
import io
import json
import secrets
import time
import urllib.error
import urllib.parse
import urllib.request

from sql import Cast, Literal
from sql.conditionals import Coalesce
from sql.aggregate import Count, Max, Min

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.transaction import Transaction

from .store import in_pool

from trytond.modules.elder_base.identity import parse_citizen_id
from trytond.modules.elder_security.crypto import EncryptedMixin
from trytond.modules.elder_security.reporting import (
    SM2_SIGNER_ID, aad, canonical_json, sm3_hex, string_to_sign)

from .exceptions import ImportFileError, UploadError

try:
    import gmssl_pyx
except ImportError:  # pragma: no cover
    gmssl_pyx = None

SOURCES = [
    ('death', "Deaths (public security / health)"),
    ('dibao', "Minimum Living Allowance Status (civil affairs)"),
    ]
LOW_INCOME = 'low_income'
MAX_ROWS = 200000


def encrypted(field):
    return fields.Function(field, 'get_encrypted', setter='set_encrypted')


class ImportMapping(ModelSQL, ModelView):
    "Import mapping (数据导入映射)"
    __name__ = 'bi.import.mapping'
    name = fields.Char("Name", required=True)
    source = fields.Selection(SOURCES, "Source", required=True)
    id_column = fields.Char("ID Number Column", required=True)
    name_column = fields.Char("Name Column")
    date_column = fields.Char("Date Column",
        help="Date of death (deaths) or of the status change.")
    status_column = fields.Char("Status Column")
    status_on = fields.Char("Status Values: On",
        help="Comma-separated values meaning the allowance is granted.")
    status_off = fields.Char("Status Values: Off",
        help="Comma-separated values meaning the allowance stopped.")
    date_format = fields.Char("Date Format", required=True,
        help="strftime format, e.g. %Y-%m-%d or %Y%m%d.")

    @staticmethod
    def default_date_format():
        return '%Y-%m-%d'

    @staticmethod
    def default_id_column():
        return '身份证号'


IMPORT_STATES = [
    ('draft', "Draft"),
    ('checked', "Checked"),
    ('rejected', "Rejected"),
    ('done', "Applied"),
    ]
CHANGES = [
    ('death', "Death"),
    ('dibao_on', "Allowance Granted"),
    ('dibao_off', "Allowance Stopped"),
    ('unchanged', "Unchanged"),
    ('not_found', "Not on the Platform"),
    ('error', "Error"),
    ]


class ImportBatch(Workflow, ModelSQL, ModelView):
    "Data import (数据导入)"
    __name__ = 'bi.import'
    _states = {'readonly': Eval('state') != 'draft'}
    mapping = fields.Many2One('bi.import.mapping', "Mapping", required=True,
        states=_states, ondelete='RESTRICT')
    file = fields.Binary("File", filename='filename', required=True,
        states=_states)
    filename = fields.Char("File Name", required=True, states=_states)
    state = fields.Selection(IMPORT_STATES, "State", readonly=True,
        required=True)
    lines = fields.One2Many('bi.import.line', 'batch', "Changes",
        readonly=True)
    report = fields.Text("Report", readonly=True)
    rows = fields.Integer("Rows", readonly=True)
    applied_by = fields.Many2One('res.user', "Applied By", readonly=True)
    applied_at = fields.Timestamp("Applied At", readonly=True)
    del _states

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('draft', 'checked'), ('draft', 'rejected'),
            ('rejected', 'draft'), ('checked', 'draft'),
            ('checked', 'done'),
            }
        cls._buttons.update({
                'check': {'invisible': Eval('state') != 'draft',
                    'depends': ['state']},
                'apply': {'invisible': Eval('state') != 'checked',
                    'depends': ['state']},
                'draft': {'invisible': ~Eval('state').in_(
                        ['checked', 'rejected']), 'depends': ['state']},
                })

    @staticmethod
    def default_state():
        return 'draft'

    # --- reading --------------------------------------------------------
    def read_rows(self):
        "The file's rows as dicts (raises ImportFileError)"
        data = bytes(self.file or b'')
        name = (self.filename or '').lower()
        try:
            if name.endswith('.csv'):
                try:
                    text = data.decode('utf-8-sig')
                except UnicodeDecodeError:
                    text = data.decode('gb18030')
                rows = list(csv.DictReader(io.StringIO(text)))
            elif name.endswith('.xlsx'):
                from openpyxl import load_workbook
                book = load_workbook(io.BytesIO(data), read_only=True,
                    data_only=True)
                values = list(book.active.iter_rows(values_only=True))
                header = [str(h).strip() if h is not None else ''
                    for h in (values[0] if values else [])]
                rows = [dict(zip(header, r)) for r in values[1:]
                    if any(v not in (None, '') for v in r)]
            elif name.endswith('.json'):
                content = json.loads(data.decode('utf-8'))
                if isinstance(content, dict):
                    content = content.get('records')
                if not isinstance(content, list) or not all(
                        isinstance(r, dict) for r in content):
                    raise ValueError('not a list of records')
                rows = content
            else:
                raise ImportFileError(gettext(
                        'elder_bi.msg_import_format', name=self.filename))
        except ImportFileError:
            raise
        except Exception as error:
            raise ImportFileError(gettext('elder_bi.msg_import_unreadable',
                    name=self.filename, error=str(error)[:200]))
        if not rows:
            raise ImportFileError(gettext('elder_bi.msg_import_empty'))
        if len(rows) > MAX_ROWS:
            raise ImportFileError(gettext('elder_bi.msg_import_too_big',
                    limit=MAX_ROWS))
        mapping = self.mapping
        needed = [mapping.id_column] + [c for c in [
                mapping.date_column if mapping.source == 'death' else None,
                mapping.status_column if mapping.source == 'dibao' else None]
            if c]
        missing = [c for c in needed if c not in rows[0]]
        if missing:
            raise ImportFileError(gettext('elder_bi.msg_import_columns',
                    columns=', '.join(missing)))
        return rows

    def _date(self, value):
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        return dt.datetime.strptime(
            str(value).strip(), self.mapping.date_format).date()

    def analyse(self):
        """Return (lines values, errors) for the whole file; nothing is
        written"""
        pool = Pool()
        Elder = pool.get('elder.elder')
        Date = pool.get('ir.date')
        mapping = self.mapping
        today = Date.today()
        on = {v.strip() for v in (mapping.status_on or '').split(',')
            if v.strip()}
        off = {v.strip() for v in (mapping.status_off or '').split(',')
            if v.strip()}
        rows = self.read_rows()
        errors, lines, seen = [], [], {}
        for number, row in enumerate(rows, 2):
            raw_id = str(row.get(mapping.id_column) or '').strip().upper()
            try:
                id_number, _, _ = parse_citizen_id(raw_id)
            except ValueError:
                errors.append(gettext('elder_bi.msg_import_row_id',
                        row=number, value=_mask(raw_id)))
                continue
            if id_number in seen:
                errors.append(gettext('elder_bi.msg_import_row_duplicate',
                        row=number, first=seen[id_number]))
                continue
            seen[id_number] = number
            values = {'row': number, 'id_masked': _mask(id_number)}
            date = None
            if mapping.date_column and row.get(mapping.date_column) not in (
                    None, ''):
                try:
                    date = self._date(row[mapping.date_column])
                except ValueError:
                    errors.append(gettext('elder_bi.msg_import_row_date',
                            row=number, value=row[mapping.date_column]))
                    continue
                if date > today:
                    errors.append(gettext('elder_bi.msg_import_row_future',
                            row=number, value=date))
                    continue
            elif mapping.source == 'death':
                errors.append(gettext('elder_bi.msg_import_row_date',
                        row=number, value=''))
                continue
            values['date'] = date
            status = None
            if mapping.source == 'dibao':
                status = str(row.get(mapping.status_column) or '').strip()
                if status not in on | off:
                    errors.append(gettext('elder_bi.msg_import_row_status',
                            row=number, value=status))
                    continue
            elders = Elder.search([('id_number', '=', id_number)], limit=1)
            if not elders:
                values['change'] = 'not_found'
                lines.append(values)
                continue
            elder, = elders
            values['elder'] = elder.id
            if mapping.source == 'death':
                values['change'] = ('unchanged' if elder.state == 'deceased'
                    else 'death')
            else:
                has = LOW_INCOME in {c.code for c in elder.categories}
                if status in on:
                    values['change'] = 'unchanged' if has else 'dibao_on'
                else:
                    values['change'] = 'dibao_off' if has else 'unchanged'
            lines.append(values)
        return lines, errors, len(rows)

    @classmethod
    @ModelView.button
    @Workflow.transition('checked')
    def check(cls, batches):
        pool = Pool()
        Line = pool.get('bi.import.line')
        for batch in batches:
            Line.delete(Line.search([('batch', '=', batch.id)]))
            try:
                lines, errors, count = batch.analyse()
            except ImportFileError as error:
                lines, errors, count = [], [error.message], 0
            batch.rows = count
            if errors:
                # The whole file is refused: no line, nothing applied
                batch.state = 'rejected'
                batch.report = '\n'.join(
                    [gettext('elder_bi.msg_import_rejected',
                            count=len(errors))] + errors[:500])
                batch.save()
                continue
            Line.create([dict(v, batch=batch.id) for v in lines])
            batch.report = cls.summarise(lines)
            batch.save()

    @classmethod
    def summarise(cls, lines):
        counts = {}
        for line in lines:
            counts[line['change']] = counts.get(line['change'], 0) + 1
        labels = dict(CHANGES)
        Line = Pool().get('bi.import.line')
        labels = dict(Line.fields_get(['change'])['change']['selection'])
        return '\n'.join('%s: %s' % (labels.get(k, k), counts[k])
            for k, _ in CHANGES if k in counts)

    @classmethod
    @ModelView.button
    @Workflow.transition('draft')
    def draft(cls, batches):
        Line = Pool().get('bi.import.line')
        Line.delete(Line.search([('batch', 'in', [b.id for b in batches])]))
        cls.write(batches, {'report': None, 'rows': None})

    @classmethod
    @ModelView.button
    @Workflow.transition('done')
    def apply(cls, batches):
        pool = Pool()
        Elder = pool.get('elder.elder')
        Category = pool.get('elder.category')
        Line = pool.get('bi.import.line')
        Event = pool.get('security.audit.event')
        low, = Category.search([('code', '=', LOW_INCOME)], limit=1)
        for batch in batches:
            applied = []
            deaths = {}
            for line in batch.lines:
                if line.change == 'death':
                    deaths.setdefault(line.date, []).append(line.elder)
                elif line.change == 'dibao_on':
                    Elder.write([line.elder], {
                            'categories': [('add', [low.id])]})
                elif line.change == 'dibao_off':
                    Elder.write([line.elder], {
                            'categories': [('remove', [low.id])]})
                else:
                    continue
                applied.append(line)
            for date, elders in deaths.items():
                Elder.deceased(elders, date)
            Line.write(applied, {'applied': True}) if applied else None
            batch.applied_by = Transaction().user
            batch.applied_at = dt.datetime.utcnow()
            batch.save()
            Event.log('import', object=batch, details={
                    'file': batch.filename, 'source': batch.mapping.source,
                    'applied': len(applied), 'rows': batch.rows})


def _mask(value):
    value = value or ''
    if len(value) <= 8:
        return '*' * len(value)
    return value[:4] + '*' * (len(value) - 8) + value[-4:]


class ImportLine(ModelSQL, ModelView):
    "Data import change"
    __name__ = 'bi.import.line'
    _sensitivity = {'id_masked': 'personal', 'elder': 'personal',
        'date': 'personal', 'change': 'sensitive'}
    batch = fields.Many2One('bi.import', "Import", required=True,
        ondelete='CASCADE', readonly=True)
    row = fields.Integer("Row", readonly=True)
    id_masked = fields.Char("ID Number", readonly=True)
    elder = fields.Many2One('elder.elder', "Older Person", readonly=True,
        ondelete='CASCADE')
    date = fields.Date("Date", readonly=True)
    change = fields.Selection(CHANGES, "Change", readonly=True)
    applied = fields.Boolean("Applied", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('batch')
        cls._order = [('row', 'ASC'), ('id', 'ASC')]


# --- upload to the level above ----------------------------------------------------

def _elder_basic(elder):
    return {
        'sfzh': elder.id_number,              # 身份证号
        'xm': elder.name,                     # 姓名
        'xb': elder.sex,                      # 性别 GB/T 2261.1
        'csrq': elder.birth_date.isoformat() if elder.birth_date else None,
        'mz': elder.ethnicity.code if elder.ethnicity else None,
        'xzqh': elder.region.code,            # 居住地行政区划
        'jzzk': elder.living_situation,       # 居住状况
        'lb': sorted(c.code for c in elder.categories),
        'zt': elder.state,                    # 在册 / 迁出 / 死亡
        'swrq': elder.death_date.isoformat() if elder.death_date else None,
        }


def _service_record(order):
    return {
        'gdbh': order.number,                 # 工单编号
        'sfzh': order.elder.id_number,
        'fwlx': order.item.service_type.code if order.item else None,
        'fwxm': order.item.code if order.item else None,
        'jgdm': order.provider.credit_code if order.provider else None,
        'fwrq': order.requested_date.isoformat()
        if order.requested_date else None,
        'qd': order.checkin_time.isoformat() if order.checkin_time else None,
        'qt': order.checkout_time.isoformat()
        if order.checkout_time else None,
        'sc': order.duration,
        'zt': order.state,
        'pj': order.rating,
        }


# data set code → (model, field mapping, domain of the records to send)
DATASETS = {
    'elder_basic': ('elder.elder', _elder_basic, []),
    'service_record': ('service.order', _service_record,
        [('state', 'in', ['completed', 'confirmed', 'closed'])]),
    }
UPLOAD_STATES = [
    ('pending', "Pending"),
    ('accepted', "Accepted"),
    ('rejected', "Rejected"),
    ('failed', "Failed"),
    ]


class UploadTarget(EncryptedMixin, ModelSQL, ModelView):
    "Upload target (上级平台)"
    __name__ = 'bi.upload.target'
    _sensitivity = {'sm4_key': 'sensitive', 'sm2_private_key': 'sensitive',
        'key_id': 'internal', 'sm2_public_key': 'internal',
        'receiver_public_key': 'internal'}
    _encrypted_fields = {'sm4_key': None, 'sm2_private_key': None}
    _secret_fields = ('sm4_key', 'sm2_private_key')
    name = fields.Char("Name", required=True)
    url = fields.Char("URL", required=True,
        help="The receiving endpoint of the platform of the level above.")
    platform_code = fields.Char("Platform Code", required=True,
        help="This platform's code in the record ids (e.g. the region "
        "code).")
    key_id = fields.Char("Key ID", required=True)
    sm4_key = encrypted(fields.Char("SM4 Key",
            help="32 hexadecimal digits, agreed with the receiver."))
    sm4_key_enc = fields.Char("SM4 Key (Encrypted)", readonly=True)
    sm2_private_key = encrypted(fields.Char("SM2 Private Key",
            help="This platform's signing key (64 hexadecimal digits)."))
    sm2_private_key_enc = fields.Char(
        "SM2 Private Key (Encrypted)", readonly=True)
    sm2_public_key = fields.Char("SM2 Public Key",
        help="This platform's public key, given to the receiver.")
    receiver_public_key = fields.Char("Receiver Public Key",
        help="The receiver's SM2 public key that signs the receipts.")
    max_attempts = fields.Integer("Maximum Attempts", required=True)
    retry_base = fields.Integer("Retry Base (s)", required=True,
        help="The n-th retry waits base × 2^n seconds.")
    active = fields.Boolean("Active")

    @staticmethod
    def default_max_attempts():
        return 8

    @staticmethod
    def default_retry_base():
        return 60

    @staticmethod
    def default_active():
        return True

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'queue_all': {}, 'send_now': {}, 'reconcile': {},
                })

    @classmethod
    def read(cls, ids, fields_names):
        "The keys are write-only through the API (server code reads them)"
        result = super().read(ids, fields_names)
        if not Transaction().check_access:
            return result
        for row in result:
            for name in cls._secret_fields:
                if row.get(name):
                    row[name] = '********'
        return result

    @classmethod
    def validate_fields(cls, targets, field_names):
        super().validate_fields(targets, field_names)
        for target in targets:
            scheme = urllib.parse.urlsplit(target.url or '').scheme
            if scheme not in {'http', 'https'}:
                raise UploadError(gettext('elder_bi.msg_upload_url',
                        url=target.url))

    @classmethod
    @ModelView.button
    def queue_all(cls, targets):
        Record = Pool().get('bi.upload.record')
        for target in targets:
            for dataset in DATASETS:
                Record.queue(target, dataset)

    @classmethod
    @ModelView.button
    def send_now(cls, targets):
        Record = Pool().get('bi.upload.record')
        Record.send(Record.search([('target', 'in', [t.id for t in targets]),
                    ('state', '=', 'pending')]), force=True)

    @classmethod
    @ModelView.button
    def reconcile(cls, targets):
        """Ask each receiver for the receipts it holds; records it lacks
        (or holds with another version) go back to pending"""
        Record = Pool().get('bi.upload.record')
        for target in targets:
            held = target.request('GET', '/receipts')[1].get('receipts', {})
            to_resend = []
            for record in Record.search([('target', '=', target.id),
                        ('state', '=', 'accepted')]):
                if held.get(record.record_id, {}).get('version') \
                        != record.version:
                    to_resend.append(record)
            Record.write(to_resend, {'state': 'pending', 'attempts': 0,
                    'next_attempt': None, 'last_error': gettext(
                        'elder_bi.msg_upload_missing')}) if to_resend else None

    def request(self, method, suffix='', body=None, headers=None):
        url = self.url.rstrip('/') + suffix
        request = urllib.request.Request(  # noqa: S310 (http(s) checked in validate_fields)
            url, data=body, method=method, headers=headers or {})
        try:
            with urllib.request.urlopen(  # noqa: S310 (http(s) checked in validate_fields)
                    request, timeout=30) as response:
                return response.status, json.loads(response.read() or b'{}')
        except urllib.error.HTTPError as error:
            content = error.read()
            try:
                return error.code, json.loads(content)
            except ValueError:
                return error.code, {'error': content[:200].decode(
                        'utf-8', 'replace')}

    def build(self, payload):
        "Headers and body of the signed, encrypted request"
        path = urllib.parse.urlsplit(self.url).path or '/'
        timestamp = int(time.time())
        nonce = secrets.token_urlsafe(18)
        plaintext = canonical_json(payload).encode('utf-8')
        iv = secrets.token_bytes(12)
        ciphertext, tag = gmssl_pyx.sm4_gcm_encrypt(
            bytes.fromhex(self.sm4_key), iv,
            aad(self.key_id, timestamp, nonce), plaintext)
        body = json.dumps({
                'iv': base64.b64encode(iv).decode('ascii'),
                'ciphertext': base64.b64encode(ciphertext).decode('ascii'),
                'tag': base64.b64encode(tag).decode('ascii'),
                }).encode('utf-8')
        message = string_to_sign(path, self.key_id, timestamp, nonce, body)
        signature = gmssl_pyx.sm2_sign(
            bytes.fromhex(self.sm2_private_key),
            gmssl_pyx.normalize_sm2_public_key(
                bytes.fromhex(self.sm2_public_key)),
            message, SM2_SIGNER_ID)
        return {
            'Content-Type': 'application/json',
            'X-Key-Id': self.key_id,
            'X-Timestamp': str(timestamp),
            'X-Nonce': nonce,
            'X-Signature': base64.b64encode(signature).decode('ascii'),
            }, body

    def verify_receipt(self, receipt):
        if not self.receiver_public_key:
            return True
        try:
            message = receipt_message(receipt)
            signature = base64.b64decode(receipt['signature'])
            return bool(gmssl_pyx.sm2_verify(
                    gmssl_pyx.normalize_sm2_public_key(
                        bytes.fromhex(self.receiver_public_key)),
                    message, signature, SM2_SIGNER_ID))
        except (KeyError, ValueError, TypeError):
            return False


def receipt_message(receipt):
    return '\n'.join([receipt['receipt_id'], receipt['record_id'],
            receipt['version'], receipt['received_at']]).encode('utf-8')


class UploadRecord(ModelSQL, ModelView):
    "Upload record (上报记录)"
    __name__ = 'bi.upload.record'
    target = fields.Many2One('bi.upload.target', "Target", required=True,
        ondelete='CASCADE', readonly=True)
    dataset = fields.Selection([
            ('elder_basic', "Older Person Basic Data"),
            ('service_record', "Home Service Record"),
            ], "Data Set", required=True, readonly=True)
    resource = fields.Reference("Record", selection='get_resources',
        readonly=True)
    record_id = fields.Char("Record ID", required=True, readonly=True)
    version = fields.Char("Version", readonly=True,
        help="SM3 of the record's canonical JSON.")
    state = fields.Selection(UPLOAD_STATES, "State", required=True,
        readonly=True)
    attempts = fields.Integer("Attempts", readonly=True)
    next_attempt = fields.Timestamp("Next Attempt", readonly=True)
    last_error = fields.Text("Last Error", readonly=True)
    receipt_id = fields.Char("Receipt", readonly=True)
    receipt = fields.Text("Receipt Data", readonly=True)
    accepted_at = fields.Timestamp("Accepted At", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('record_uniq', Unique(t, t.target, t.record_id),
                'elder_bi.msg_upload_record_unique'),
            ]
        cls._order = [('id', 'DESC')]
        cls._buttons.update({'retry': {
                    'invisible': ~Eval('state').in_(['failed', 'rejected']),
                    'depends': ['state']}})

    @classmethod
    def get_resources(cls):
        pool = Pool()
        Model = pool.get('ir.model')
        models = [m for m, _, _ in DATASETS.values()
            if in_pool(pool, m)]
        return [(None, '')] + [(m, Model.get_name(m)) for m in models]

    @staticmethod
    def default_state():
        return 'pending'

    @staticmethod
    def default_attempts():
        return 0

    @classmethod
    def queue(cls, target, dataset, records=None):
        """Create or refresh the upload records of a data set; a record
        whose content has not changed since it was accepted stays as is"""
        pool = Pool()
        model, mapper, domain = DATASETS[dataset]
        if not in_pool(pool, model):
            return []
        Model = pool.get(model)
        if records is None:
            records = Model.search(domain)
        existing = {r.record_id: r for r in cls.search([
                    ('target', '=', target.id), ('dataset', '=', dataset)])}
        to_save = []
        for record in records:
            record_id = '%s:%s:%s' % (
                target.platform_code, dataset, record.id)
            version = sm3_hex(canonical_json(mapper(record)).encode('utf-8'))
            upload = existing.get(record_id)
            if upload and upload.version == version:
                continue
            if not upload:
                upload = cls(target=target, dataset=dataset,
                    record_id=record_id, resource=str(record))
            upload.version = version
            upload.state = 'pending'
            upload.attempts = 0
            upload.next_attempt = None
            upload.last_error = None
            to_save.append(upload)
        cls.save(to_save)
        return to_save

    def payload(self):
        model, mapper, _ = DATASETS[self.dataset]
        return {'record_id': self.record_id, 'dataset': self.dataset,
            'version': self.version,
            'occurred_at': dt.datetime.utcnow().replace(
                microsecond=0).isoformat() + 'Z',
            'data': mapper(self.resource)}

    @classmethod
    def send(cls, records, force=False):
        now = dt.datetime.utcnow()
        for record in records:
            if record.state != 'pending':
                continue
            if not force and record.next_attempt and record.next_attempt > now:
                continue
            target = record.target
            payload = record.payload()
            # the content may have changed since it was queued
            record.version = sm3_hex(
                canonical_json(payload['data']).encode('utf-8'))
            payload['version'] = record.version
            record.attempts = (record.attempts or 0) + 1
            try:
                headers, body = target.build(payload)
                status, answer = target.request('POST', '', body, headers)
            except (OSError, ValueError) as error:
                status, answer = None, {'error': str(error)[:200]}
            if status in (200, 201) and target.verify_receipt(answer):
                record.state = 'accepted'
                record.receipt_id = answer['receipt_id']
                record.receipt = json.dumps(answer, ensure_ascii=False)
                record.accepted_at = dt.datetime.utcnow()
                record.last_error = None
                record.next_attempt = None
            elif status in (200, 201):
                record.last_error = gettext('elder_bi.msg_upload_receipt')
                record.state = 'failed'
            elif status and 400 <= status < 500 and status not in (
                    408, 409, 429):
                record.state = 'rejected'
                record.last_error = '%s %s' % (status, json.dumps(
                        answer, ensure_ascii=False)[:500])
            else:
                record.last_error = '%s %s' % (status or '-', json.dumps(
                        answer, ensure_ascii=False)[:500])
                if record.attempts >= target.max_attempts:
                    record.state = 'failed'
                else:
                    record.next_attempt = dt.datetime.utcnow() + \
                        dt.timedelta(seconds=target.retry_base
                            * 2 ** (record.attempts - 1))
            record.save()

    @classmethod
    def cron_send(cls):
        now = dt.datetime.utcnow()
        cls.send(cls.search([('state', '=', 'pending'), ['OR',
                        ('next_attempt', '=', None),
                        ('next_attempt', '<=', now)]],
                order=[('id', 'ASC')], limit=5000))

    @classmethod
    @ModelView.button
    def retry(cls, records):
        cls.write(records, {'state': 'pending', 'attempts': 0,
                'next_attempt': None})


class UploadReconcile(ModelSQL, ModelView):
    "Upload reconciliation (上报对账)"
    __name__ = 'bi.upload.reconcile'
    target = fields.Many2One('bi.upload.target', "Target")
    dataset = fields.Char("Data Set")
    state = fields.Selection(UPLOAD_STATES, "State")
    records = fields.Integer("Records")
    first = fields.Timestamp("First Accepted")
    last = fields.Timestamp("Last Accepted")

    @classmethod
    def table_query(cls):
        Record = Pool().get('bi.upload.record')
        r = Record.__table__()
        return r.select(
            Min(r.id).as_('id'),
            Cast(Literal(0), 'INTEGER').as_('create_uid'), Min(r.create_date).as_(
                'create_date'),
            Cast(Literal(0), 'INTEGER').as_('write_uid'),
            Max(Coalesce(r.write_date, r.create_date)).as_('write_date'),
            r.target.as_('target'), r.dataset.as_('dataset'),
            r.state.as_('state'), Count(r.id).as_('records'),
            Min(r.accepted_at).as_('first'), Max(r.accepted_at).as_('last'),
            group_by=[r.target, r.dataset, r.state])

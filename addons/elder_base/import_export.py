# This file is part of the eldercare platform. See LICENSE.
"""Excel import of older people, providers and regions; Excel export of lists.

An import reads the whole workbook and checks every row before anything is
written: with one bad row nothing is saved and the user gets a report (and an
error workbook) naming each bad row, column, value and reason. When every row
is good the records are created in one go.

The column titles of the templates are Chinese and fixed: they are the file
format that the civil-affairs offices fill in, not user-interface strings.
"""
import datetime as dt
import re
import warnings
from collections import namedtuple
from decimal import Decimal, InvalidOperation
from io import BytesIO

from lxml import etree
from stdnum.cn import uscc

from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.report import Report
from trytond.tools import grouped_slice
from trytond.transaction import (
    Transaction, check_access, without_check_access)
from trytond.wizard import Button, StateTransition, StateView, Wizard

from .exceptions import ImportError_
from .identity import normalize_phone, parse_citizen_id, validate_credit_code

# Limits of one import file.
MAX_ROWS = 50_000
MAX_FILE_SIZE = 20 * 1024 * 1024
# Lines of the on-screen report; the error workbook lists them all.
MAX_REPORT_LINES = 300
# Separators of multi-valued cells: 、 first, the others are forgiven.
SEPARATORS = re.compile(r'[、,，;；\n]+')
_REQUIRED_MARKS = '*＊'
_EXAMPLE_CREDIT_CODE = (
    '91150102MA0000001' + uscc.calc_check_digit('91150102MA0000001'))
# Values per IN clause (PostgreSQL takes at most 65535 parameters)
_IN_MAX = 1000
# Records per create call: one call per file would cost O(n²) in browse(),
# the calls share the transaction so the import stays all or nothing.
CREATE_BATCH = 100
SELECTION_TYPES = {'selection', 'level'}
_ILLEGAL_CHARACTERS = re.compile(r'[\000-\010]|[\013-\014]|[\016-\037]')

# Reasons of parse_citizen_id → message
_CITIZEN_ID_ERRORS = {
    'length': 'msg_import_citizen_id_length',
    'format': 'msg_import_citizen_id_format',
    'province': 'msg_import_citizen_id_province',
    'birth date': 'msg_import_citizen_id_birth_date',
    'check character': 'msg_import_citizen_id_check',
    }


def _msg(message, /, **kwargs):
    return gettext('elder_base.' + message, **kwargs)


class Column:
    """A column of an import file.

    type selects the parser (Importer._parse_<type>) and the help line of the
    instructions sheet (msg_import_help_<type>)."""

    def __init__(self, name, title, type, required=False, example=None,
            scoped=False):
        self.name = name
        self.title = title
        self.type = type
        self.required = required
        self.example = example
        # Region columns that must lie within the user's region scope.
        self.scoped = scoped

    @property
    def header(self):
        return self.title + ('*' if self.required else '')


Row = namedtuple('Row', ['number', 'values'])
Issue = namedtuple('Issue', ['row', 'column', 'value', 'reason'])


class RowError(Exception):
    "A bad cell: the message id and its arguments"

    def __init__(self, message, **kwargs):
        super().__init__(message)
        self.message = message
        self.kwargs = kwargs

    def __str__(self):
        return _msg(self.message, **self.kwargs)


def _text(value):
    "Return the text of a cell value or None when it is empty"
    if value is None:
        return None
    if isinstance(value, bool):
        return str(int(value))
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    if isinstance(value, dt.datetime):
        value = value.date() if value.time() == dt.time() else value
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    value = str(value).strip()
    return value or None


def _display(value):
    "Return a cell value as the report shows it"
    text = _text(value)
    if text is None:
        return ''
    if len(text) > 60:
        text = text[:57] + '…'
    return text


def _split(text):
    return [v.strip() for v in SEPARATORS.split(text or '') if v.strip()]


def _cell(ws, value, **style):
    "Return a write-only cell whose text is never taken for a formula"
    from openpyxl.cell import WriteOnlyCell
    if isinstance(value, str):
        value = _ILLEGAL_CHARACTERS.sub('', value)
    cell = WriteOnlyCell(ws, value=value)
    if isinstance(value, str) and value.startswith('='):
        cell.data_type = 's'
    for key, style_value in style.items():
        setattr(cell, key, style_value)
    return cell


def _column_letter(index):
    from openpyxl.utils import get_column_letter
    return get_column_letter(index)


def _sheet_title(title):
    title = re.sub(r'[\[\]:*?/\\]', ' ', title or 'Sheet').strip()
    return title[:31] or 'Sheet'


def _selection(Model, field_name, languages=None):
    """Return [(key, label)] of a selection field and a lookup dict from the
    key and the labels in the given languages (and the base one) to the key"""
    transaction = Transaction()
    languages = languages or []
    labels = []
    lookup = {}
    for language in [transaction.language, *languages, None]:
        context = {'language': language} if language else {}
        with transaction.set_context(**context):
            selection = Model.fields_get([field_name])[field_name]['selection']
        if not labels:
            labels = [(k, v) for k, v in selection if k]
        for key, label in selection:
            if key:
                lookup.setdefault(str(key).casefold(), key)
                if label:
                    lookup.setdefault(label.strip().casefold(), key)
    return labels, lookup


def _code_names(Model, languages=None):
    "Return [(code, name)] of a code table and a lookup from codes and names"
    transaction = Transaction()
    records = []
    lookup = {}
    for language in [transaction.language, *(languages or []), None]:
        context = {'language': language} if language else {}
        with transaction.set_context(**context):
            rows = Model.search_read([], fields_names=['code', 'name'])
        if not records:
            records = [(r['code'], r['name']) for r in rows]
        for r in rows:
            lookup.setdefault(r['code'].strip().casefold(), r['id'])
            if r['name']:
                lookup.setdefault(r['name'].strip().casefold(), r['id'])
    return records, lookup


class Importer:
    "Read, check and create the records of one kind of import file"
    kind = None
    model = None
    # The column that identifies a record: duplicates are refused.
    key = None
    columns = []
    # Languages whose labels and names are accepted besides the user's
    languages = ['zh_CN', 'en']

    def __init__(self):
        self.issues = []
        self.created = []
        self._columns = {c.name: c for c in self.columns}
        self._order = {c.name: i for i, c in enumerate(self.columns)}

    # Reading

    def read(self, data):
        "Return the rows of the file or raise ImportError_ for a bad file"
        import openpyxl
        if isinstance(data, (bytearray, memoryview)):
            data = bytes(data)
        if not data:
            raise ImportError_(_msg('msg_import_no_file'))
        if len(data) > MAX_FILE_SIZE:
            raise ImportError_(_msg(
                    'msg_import_file_too_big',
                    size=MAX_FILE_SIZE // (1024 * 1024)))
        if not data.startswith(b'PK'):
            # .xls (OLE2), .csv, .pdf …: openpyxl reads Office Open XML only
            raise ImportError_(_msg('msg_import_not_xlsx'))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter('ignore')
                workbook = openpyxl.load_workbook(
                    BytesIO(data), read_only=True, data_only=True)
        except Exception as exc:
            raise ImportError_(_msg('msg_import_not_xlsx')) from exc
        try:
            return self._read_sheet(workbook.worksheets[0])
        except ImportError_:
            raise
        except Exception as exc:
            raise ImportError_(_msg('msg_import_not_xlsx')) from exc
        finally:
            workbook.close()

    def _read_sheet(self, sheet):
        lines = sheet.iter_rows(values_only=True)
        header = next(lines, None) or ()
        positions = self._read_header(header)
        rows = []
        for number, line in enumerate(lines, start=2):
            values = {}
            for name, position in positions.items():
                if position < len(line):
                    value = line[position]
                    if isinstance(value, str):
                        value = value.strip() or None
                    if value is not None:
                        values[name] = value
            if not values:
                continue
            if len(rows) >= MAX_ROWS:
                raise ImportError_(_msg(
                        'msg_import_too_many_rows', max=MAX_ROWS))
            rows.append(Row(number, values))
        if not rows:
            raise ImportError_(_msg('msg_import_no_rows'))
        return rows

    def _read_header(self, header):
        "Return the position of each known column; refuse a wrong header"
        titles = {}
        for column in self.columns:
            titles[column.title] = column
            titles[column.name] = column
        positions = {}
        unknown, duplicates = [], []
        for position, value in enumerate(header):
            title = _text(value)
            if not title:
                continue
            title = re.sub(r'\s+', '', title).rstrip(_REQUIRED_MARKS)
            column = titles.get(title)
            if not column:
                unknown.append(str(value).strip())
            elif column.name in positions:
                duplicates.append(column.title)
            else:
                positions[column.name] = position
        missing = [c.header for c in self.columns
            if c.required and c.name not in positions]
        if not positions or missing:
            raise ImportError_(_msg(
                    'msg_import_missing_columns',
                    kind=self.kind_string(),
                    columns='、'.join(missing or [
                            c.header for c in self.columns if c.required])))
        if unknown:
            raise ImportError_(_msg(
                    'msg_import_unknown_columns',
                    kind=self.kind_string(), columns='、'.join(unknown),
                    known='、'.join(c.title for c in self.columns)))
        if duplicates:
            raise ImportError_(_msg(
                    'msg_import_duplicate_columns',
                    columns='、'.join(duplicates)))
        return positions

    @classmethod
    def kind_string(cls):
        pool = Pool()
        Start = pool.get('elder.import.start')
        selection = dict(Start.fields_get(['kind'])['kind']['selection'])
        return selection.get(cls.kind, cls.kind)

    # Checking

    def run(self, data):
        """Check the whole file and create its records if every row is good.

        Return the number of records created, or None when self.issues lists
        the bad rows (nothing is written then)."""
        rows = self.read(data)
        self.prepare(rows)
        checked = []
        seen = {}
        for row in rows:
            values = self.convert(row)
            if values is None:
                continue
            key = values.get(self.key)
            if key in seen:
                self.add_issue(row, self.key, RowError(
                        'msg_import_duplicate_in_file', row=seen[key]))
                continue
            seen[key] = row.number
            checked.append((row, values))
        self.check_existing(checked)
        if self.issues:
            self.issues.sort(key=lambda i: (i.row, i.column))
            return None
        self.created = self.create([v for _, v in checked])
        return len(self.created)

    def prepare(self, rows):
        "Load the lookups that the rows need"
        pool = Pool()
        Region = pool.get('elder.region')
        codes = set()
        for column in self.columns:
            if column.type in {'region', 'regions'}:
                for row in rows:
                    text = _text(row.values.get(column.name))
                    if column.type == 'regions':
                        codes.update(_split(text))
                    elif text:
                        codes.add(text)
        self.regions = {}
        for sub_codes in grouped_slice(sorted(codes), _IN_MAX):
            for region in Region.search_read(
                    [('code', 'in', list(sub_codes))],
                    fields_names=['code']):
                self.regions[region['code']] = region['id']
        self.allowed_regions = self.regions_in_scope(self.regions.values())

    @classmethod
    def user_scope(cls):
        """Return the ids of the regions that limit the user or None when the
        user may import anywhere"""
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        transaction = Transaction()
        scope = User.get_elder_regions()
        if scope:
            return scope
        if transaction.user == 0 or ModelData.get_id(
                'res', 'group_admin') in User.get_groups():
            return None
        return []

    @classmethod
    def regions_in_scope(cls, region_ids):
        pool = Pool()
        Region = pool.get('elder.region')
        region_ids = set(region_ids)
        scope = cls.user_scope()
        if scope is None:
            return region_ids
        allowed = set()
        if scope:
            for sub_ids in grouped_slice(sorted(region_ids), _IN_MAX):
                allowed.update(r.id for r in Region.search([
                            ('id', 'in', list(sub_ids)),
                            ('parent', 'child_of', scope, 'parent'),
                            ]))
        return allowed

    def scope_string(self):
        pool = Pool()
        Region = pool.get('elder.region')
        if not hasattr(self, '_scope_string'):
            scope = self.user_scope()
            self._scope_string = '、'.join(
                r.rec_name for r in Region.browse(scope or [])) or '—'
        return self._scope_string

    def add_issue(self, row, column_name, error):
        column = self._columns[column_name]
        self.issues.append(Issue(
                row.number, self._order[column_name],
                _display(row.values.get(column_name)), error))

    def convert(self, row):
        "Return the values of the row or None after adding its issues"
        values = {}
        good = True
        for column in self.columns:
            raw = row.values.get(column.name)
            try:
                if raw is None:
                    if column.required:
                        raise RowError('msg_import_required')
                    value = None
                else:
                    value = getattr(self, '_parse_' + column.type)(
                        column, raw)
            except RowError as error:
                self.add_issue(row, column.name, error)
                good = False
            else:
                values[column.name] = value
        if good:
            good = self.check_row(row, values)
        return values if good else None

    def check_row(self, row, values):
        "Check across the columns of a row; return False after adding issues"
        good = True
        key = self._columns[self.key]
        if values.get(self.key) == key.example and values.get('name') == (
                self._columns['name'].example):
            self.add_issue(row, self.key, RowError('msg_import_example_row'))
            good = False
        for column in self.columns:
            if (column.scoped and values.get(column.name)
                    and values[column.name] not in self.allowed_regions):
                self.add_issue(row, column.name, RowError(
                        'msg_import_region_out_of_scope',
                        scope=self.scope_string()))
                good = False
        return good

    def check_existing(self, checked):
        "Refuse the rows whose key is already registered"
        pool = Pool()
        Model = pool.get(self.model)
        rows = {v[self.key]: row for row, v in checked}
        existing = set()
        if self.key in getattr(Model, '_encrypted_indexed', {}):
            # Encrypted key (citizen ID): compare blind indexes, as the
            # unique constraint does, since read() returns it masked
            existing = Model.existing_values(self.key, list(rows))
        else:
            with Transaction().set_context(active_test=False):
                for keys in grouped_slice(sorted(rows), _IN_MAX):
                    existing.update(r[self.key] for r in Model.search_read(
                            [(self.key, 'in', list(keys))],
                            fields_names=[self.key]))
        for key in sorted(existing, key=lambda k: rows[k].number):
            self.add_issue(rows[key], self.key, RowError(
                    'msg_import_duplicate_%s' % self.kind))

    # Parsers: return the value to write or raise RowError

    def _parse_char(self, column, raw):
        return _text(raw)

    _parse_text = _parse_char

    @staticmethod
    def _check_not_rounded(raw):
        # Excel keeps 15 significant digits: an 18-digit number typed into a
        # cell formatted as a number has lost its last digits.
        if isinstance(raw, float) and abs(raw) >= 2 ** 53:
            raise RowError('msg_import_number_rounded')

    def _parse_citizen_id(self, column, raw):
        self._check_not_rounded(raw)
        try:
            number, _, _ = parse_citizen_id(_text(raw))
        except ValueError as exc:
            message = _CITIZEN_ID_ERRORS.get(
                exc.args[0] if exc.args else None,
                'msg_import_citizen_id_format')
            raise RowError(message)
        return number

    def _parse_credit_code(self, column, raw):
        self._check_not_rounded(raw)
        try:
            return validate_credit_code(_text(raw))
        except ValueError:
            raise RowError('msg_import_invalid_credit_code')

    def _parse_phone(self, column, raw):
        try:
            return normalize_phone(_text(raw))
        except ValueError:
            raise RowError('msg_import_invalid_phone')

    def _parse_region(self, column, raw):
        code = _text(raw)
        if code not in self.regions:
            raise RowError('msg_import_unknown_region')
        return self.regions[code]

    def _parse_regions(self, column, raw):
        ids = []
        for code in _split(_text(raw)):
            if code not in self.regions:
                raise RowError('msg_import_unknown_region_in_list', code=code)
            ids.append(self.regions[code])
        return ids or None

    def _parse_selection(self, column, raw):
        labels, lookup = self.selection(column.name)
        key = lookup.get(_text(raw).casefold())
        if key is None:
            raise RowError(
                'msg_import_unknown_selection',
                values='、'.join(label for _, label in labels))
        return key

    def selection(self, field_name):
        if not hasattr(self, '_selections'):
            self._selections = {}
        if field_name not in self._selections:
            Model = Pool().get(self.model)
            self._selections[field_name] = _selection(
                Model, field_name, self.languages)
        return self._selections[field_name]

    def code_names(self, model):
        if not hasattr(self, '_code_names'):
            self._code_names = {}
        if model not in self._code_names:
            self._code_names[model] = _code_names(
                Pool().get(model), self.languages)
        return self._code_names[model]

    def _parse_codes(self, model, raw, message):
        _, lookup = self.code_names(model)
        ids = []
        for value in _split(_text(raw)):
            id_ = lookup.get(value.casefold())
            if id_ is None:
                raise RowError(message, value=value)
            if id_ not in ids:
                ids.append(id_)
        return ids or None

    def _parse_integer(self, column, raw):
        if isinstance(raw, float) and raw.is_integer():
            raw = int(raw)
        if not isinstance(raw, int) or isinstance(raw, bool):
            text = _text(raw)
            if not re.fullmatch(r'[+-]?\d+', text):
                raise RowError('msg_import_invalid_integer')
            raw = int(text)
        if raw < 0:
            raise RowError('msg_import_invalid_integer')
        return raw

    def _parse_date(self, column, raw):
        if isinstance(raw, dt.datetime):
            return raw.date()
        if isinstance(raw, dt.date):
            return raw
        text = _text(raw).replace('/', '-').replace('.', '-')
        match = re.fullmatch(r'(\d{4})-(\d{1,2})-(\d{1,2})', text) or \
            re.fullmatch(r'(\d{4})(\d{2})(\d{2})', text) or \
            re.fullmatch(r'(\d{4})年(\d{1,2})月(\d{1,2})日', text)
        try:
            if not match:
                raise ValueError
            return dt.date(*map(int, match.groups()))
        except ValueError:
            raise RowError('msg_import_invalid_date')

    def _parse_degrees(self, raw, limit):
        try:
            value = Decimal(_text(raw))
        except InvalidOperation:
            raise RowError('msg_import_invalid_degrees', limit=limit)
        if not value.is_finite() or abs(value) > limit:
            raise RowError('msg_import_invalid_degrees', limit=limit)
        return value.quantize(Decimal('0.000001'))

    def _parse_latitude(self, column, raw):
        return self._parse_degrees(raw, 90)

    def _parse_longitude(self, column, raw):
        return self._parse_degrees(raw, 180)

    # Writing

    def create(self, records):
        "Create the records from the checked values and return them"
        raise NotImplementedError

    @classmethod
    def _create(cls, Model, records):
        "Create the records in batches of one transaction"
        created = []
        for sub_records in grouped_slice(records, CREATE_BATCH):
            created.extend(Model.create(list(sub_records)))
        return created

    @classmethod
    def _create_parties(cls, records):
        "Create the parties of the records"
        pool = Pool()
        Party = pool.get('party.party')
        parties = cls._create(Party, [{'name': v['name']} for v in records])
        for values, party in zip(records, parties):
            values['party'] = party.id

    @classmethod
    def _x2many(cls, values, *names):
        for name in names:
            ids = values.pop(name, None)
            if ids:
                values[name] = [('add', ids)]

    # Template

    def example_row(self):
        "Return the cell values of the template's example row"
        row = []
        for column in self.columns:
            example = column.example
            if example is None:
                row.append(None)
            elif column.type in SELECTION_TYPES:
                labels = dict(self.selection(column.name)[0])
                row.append(labels.get(example, example))
            elif column.type in {'categories', 'service_types'}:
                model = {
                    'categories': 'elder.category',
                    'service_types': 'elder.service.type',
                    }[column.type]
                names = dict(self.code_names(model)[0])
                row.append('、'.join(names.get(c, c) for c in example))
            elif isinstance(example, (list, tuple)):
                row.append('、'.join(example))
            else:
                row.append(example)
        return row

    def column_help(self, column):
        name = 'msg_import_help_' + column.type
        if column.scoped:
            name += '_scoped'
        kwargs = {}
        if column.type in SELECTION_TYPES:
            kwargs['values'] = '、'.join(
                label for _, label in self.selection(column.name)[0])
        elif column.type in {'categories', 'service_types'}:
            model = {
                'categories': 'elder.category',
                'service_types': 'elder.service.type',
                }[column.type]
            kwargs['values'] = '、'.join(
                '%s（%s）' % (name_, code)
                for code, name_ in self.code_names(model)[0])
        return _msg(name, **kwargs)

    def template(self):
        "Return the bytes of the template workbook"
        from openpyxl import Workbook
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.worksheet.datavalidation import DataValidation

        workbook = Workbook()
        sheet = workbook.active
        sheet.title = _sheet_title(self.kind_string())
        required_font = Font(bold=True, color='C00000')
        header_font = Font(bold=True)
        fill = PatternFill('solid', fgColor='DDEBF7')
        text_types = {
            'citizen_id', 'credit_code', 'phone', 'region', 'regions',
            'region_code', 'parent_code', 'char', 'text', 'categories',
            'service_types', 'ethnicity', 'selection', 'level'}
        example = self.example_row()
        for index, column in enumerate(self.columns, start=1):
            letter = _column_letter(index)
            cell = sheet.cell(row=1, column=index, value=column.header)
            cell.font = required_font if column.required else header_font
            cell.fill = fill
            cell.alignment = Alignment(horizontal='center')
            value = example[index - 1]
            cell = sheet.cell(row=2, column=index, value=value)
            if column.type in text_types:
                cell.number_format = '@'
                sheet.column_dimensions[letter].number_format = '@'
            elif column.type == 'date':
                cell.number_format = 'yyyy-mm-dd'
            width = max(len(column.header) * 2 + 4, len(str(value or '')) + 4)
            sheet.column_dimensions[letter].width = min(max(width, 12), 40)
            if column.type in SELECTION_TYPES:
                labels = [l for _, l in self.selection(column.name)[0]]
                formula = '"%s"' % ','.join(labels)
                if len(formula) <= 255 and not any(
                        ',' in l or '"' in l for l in labels):
                    validation = DataValidation(
                        type='list', formula1=formula, allow_blank=True)
                    validation.add('%s2:%s%s' % (letter, letter, MAX_ROWS + 1))
                    sheet.add_data_validation(validation)
        sheet.freeze_panes = 'A2'

        notes = workbook.create_sheet(
            _sheet_title(_msg('msg_import_instructions_sheet')))
        notes.column_dimensions['A'].width = 24
        notes.column_dimensions['B'].width = 10
        notes.column_dimensions['C'].width = 100
        notes.append([_msg(
                    'msg_import_instructions_title', kind=self.kind_string())])
        notes['A1'].font = Font(bold=True, size=14)
        notes.append([])
        for name, kwargs in [
                ('msg_import_note_header', {}),
                ('msg_import_note_example', {}),
                ('msg_import_note_whole_file', {}),
                ('msg_import_note_text', {}),
                ('msg_import_note_multiple', {}),
                ('msg_import_note_limit', {'rows': MAX_ROWS}),
                ]:
            notes.append(['• ' + _msg(name, **kwargs)])
        notes.append([])
        notes.append([
                _msg('msg_import_instructions_column'),
                _msg('msg_import_instructions_required'),
                _msg('msg_import_instructions_description')])
        for cell in notes[notes.max_row]:
            cell.font = header_font
            cell.fill = fill
        for column in self.columns:
            notes.append([
                    column.title,
                    _msg('msg_import_yes') if column.required else '',
                    self.column_help(column)])
            notes.cell(row=notes.max_row, column=3).alignment = Alignment(
                wrap_text=True, vertical='top')
        content = BytesIO()
        workbook.save(content)
        return content.getvalue()

    def template_name(self):
        return _msg('msg_import_template_name', kind=self.kind_string()) + (
            '.xlsx')

    # Report

    def issue_lines(self):
        for issue in self.issues:
            column = self.columns[issue.column]
            if issue.value:
                yield _msg(
                    'msg_import_row_error', row=issue.row,
                    column=column.title, value=issue.value,
                    reason=str(issue.reason))
            else:
                yield _msg(
                    'msg_import_row_error_empty', row=issue.row,
                    column=column.title, reason=str(issue.reason))

    def report(self):
        if not self.issues:
            return _msg(
                'msg_import_done', count=len(self.created),
                kind=self.kind_string())
        rows = len({i.row for i in self.issues})
        lines = [_msg(
                'msg_import_failed', errors=len(self.issues), rows=rows), '']
        for index, line in enumerate(self.issue_lines()):
            if index >= MAX_REPORT_LINES:
                lines.append(_msg(
                        'msg_import_more_errors',
                        count=len(self.issues) - MAX_REPORT_LINES))
                break
            lines.append(line)
        return '\n'.join(lines)

    def error_file(self):
        "Return the bytes of a workbook that lists every issue"
        from openpyxl import Workbook
        from openpyxl.styles import Font
        if not self.issues:
            return None
        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(
            _sheet_title(_msg('msg_import_error_sheet')))
        for letter, width in zip('ABCD', [8, 20, 30, 80]):
            sheet.column_dimensions[letter].width = width
        sheet.freeze_panes = 'A2'
        bold = Font(bold=True)
        sheet.append([_cell(sheet, _msg(name), font=bold) for name in [
                    'msg_import_error_row', 'msg_import_error_column',
                    'msg_import_error_value', 'msg_import_error_reason']])
        for issue in self.issues:
            sheet.append([
                    _cell(sheet, issue.row),
                    _cell(sheet, self.columns[issue.column].title),
                    _cell(sheet, issue.value),
                    _cell(sheet, str(issue.reason)),
                    ])
        content = BytesIO()
        workbook.save(content)
        return content.getvalue()


class ElderImporter(Importer):
    kind = 'elder'
    model = 'elder.elder'
    key = 'id_number'
    columns = [
        Column('name', '姓名', 'char', required=True, example='李秀英'),
        Column('id_number', '公民身份号码', 'citizen_id', required=True,
            example='150102194501010020'),
        Column('ethnicity', '民族', 'ethnicity', example='蒙古族'),
        Column('marital_status', '婚姻状况', 'selection', example='30'),
        Column('phone', '联系电话', 'phone', example='13800138000'),
        Column('region', '居住地区划代码', 'region', required=True,
            example='150102', scoped=True),
        Column('address', '居住地址', 'char', example='新城区示例路1号'),
        Column('hukou_region', '户籍地区划代码', 'region', example='150102'),
        Column('hukou_address', '户籍地址', 'char'),
        Column('living_situation', '居住情况', 'selection', example='alone'),
        Column('categories', '老年人类别', 'categories',
            example=['alone', 'advanced_age']),
        Column('latitude', '纬度', 'latitude'),
        Column('longitude', '经度', 'longitude'),
        Column('health_summary', '健康状况', 'text'),
        Column('chronic_diseases', '慢性病', 'text', example='高血压'),
        Column('note', '备注', 'text'),
        ]

    def _parse_ethnicity(self, column, raw):
        _, lookup = self.code_names('elder.ethnicity')
        text = _text(raw)
        if text.isdigit() and len(text) == 1:
            text = '0' + text  # Excel drops the leading zero of 01-09
        id_ = lookup.get(text.casefold())
        if id_ is None and not text.endswith('族'):
            id_ = lookup.get((text + '族').casefold())
        if id_ is None:
            raise RowError('msg_import_unknown_ethnicity')
        return id_

    def _parse_categories(self, column, raw):
        return self._parse_codes(
            'elder.category', raw, 'msg_import_unknown_category')

    def create(self, records):
        pool = Pool()
        Elder = pool.get('elder.elder')
        self._create_parties(records)
        for values in records:
            self._x2many(values, 'categories')
        return self._create(Elder, records)


class ProviderImporter(Importer):
    kind = 'provider'
    model = 'elder.provider'
    key = 'credit_code'
    columns = [
        Column('name', '机构名称', 'char', required=True,
            example='示例居家养老服务中心'),
        Column('credit_code', '统一社会信用代码', 'credit_code',
            required=True, example=_EXAMPLE_CREDIT_CODE),
        Column('organisation_type', '机构类型', 'selection',
            example='private_non_enterprise'),
        Column('legal_representative', '法定代表人', 'char',
            example='王建国'),
        Column('phone', '联系电话', 'phone', example='04716960000'),
        Column('region', '注册地区划代码', 'region', required=True,
            example='150102', scoped=True),
        Column('address', '地址', 'char', example='新城区示例路2号'),
        Column('service_areas', '服务区域', 'regions',
            example=['150102', '150103']),
        Column('service_types', '服务类型', 'service_types',
            example=['01', '03']),
        Column('capacity', '服务能力', 'integer', example=50),
        Column('agreement_number', '协议编号', 'char'),
        Column('agreement_start', '协议开始日期', 'date'),
        Column('agreement_end', '协议结束日期', 'date'),
        Column('latitude', '纬度', 'latitude'),
        Column('longitude', '经度', 'longitude'),
        Column('note', '备注', 'text'),
        ]

    def _parse_service_types(self, column, raw):
        return self._parse_codes(
            'elder.service.type', raw, 'msg_import_unknown_service_type')

    def check_row(self, row, values):
        good = super().check_row(row, values)
        start, end = values.get('agreement_start'), values.get('agreement_end')
        if start and end and end < start:
            self.add_issue(row, 'agreement_end', RowError(
                    'msg_import_agreement_end_before_start'))
            good = False
        return good

    def create(self, records):
        pool = Pool()
        Provider = pool.get('elder.provider')
        self._create_parties(records)
        for values in records:
            self._x2many(values, 'service_areas', 'service_types')
        return self._create(Provider, records)


class RegionImporter(Importer):
    kind = 'region'
    model = 'elder.region'
    key = 'code'
    columns = [
        Column('code', '区划代码', 'region_code', required=True,
            example='150102901'),
        Column('name', '名称', 'char', required=True, example='示例街道'),
        Column('level', '层级', 'level', example='town'),
        Column('parent', '上级区划代码', 'parent_code', example='150102'),
        ]

    @staticmethod
    def _check_code(text):
        return bool(text) and text.isdigit() and len(text) in {6, 9, 12}

    @staticmethod
    def level_of(code):
        if len(code) == 12:
            return 'community'
        if len(code) == 9:
            return 'town'
        if code[2:] == '0000':
            return 'province'
        if code[4:] == '00':
            return 'city'
        return 'county'

    @classmethod
    def parent_codes(cls, code):
        "Return the codes that may be the parent of a code, nearest first"
        if len(code) == 12:
            return [code[:9]]
        if len(code) == 9:
            return [code[:6]]
        if code[2:] == '0000':
            return []
        if code[4:] == '00':
            return [code[:2] + '0000']
        # Counties under a league/city, else directly under the province
        return [code[:4] + '00', code[:2] + '0000']

    def prepare(self, rows):
        pool = Pool()
        Region = pool.get('elder.region')
        codes = set()
        for row in rows:
            for name in ['code', 'parent']:
                text = _text(row.values.get(name))
                if text:
                    codes.add(text)
                    if name == 'code' and self._check_code(text):
                        codes.update(self.parent_codes(text))
        self.regions = {}
        with Transaction().set_context(active_test=False):
            for sub_codes in grouped_slice(sorted(codes), _IN_MAX):
                for region in Region.search_read(
                        [('code', 'in', list(sub_codes))],
                        fields_names=['code', 'active']):
                    self.regions[region['code']] = (
                        region['id'], region['active'])
        self.file_codes = {
            _text(r.values.get('code')) for r in rows
            if _text(r.values.get('code'))}
        self.scope = self.user_scope()
        self.allowed_regions = self.regions_in_scope(
            id_ for id_, active in self.regions.values() if active)

    # Chinese names of the levels as the civil-affairs tables write them
    LEVEL_ALIASES = {
        'province': ['省', '自治区', '直辖市', '省级'],
        'city': ['市', '盟', '地区', '地级', '盟市', '地级市'],
        'county': ['县', '旗', '区', '县级', '旗县', '旗县区', '县区', '市辖区',
            '县级市'],
        'town': ['街道', '乡', '镇', '苏木', '乡镇', '街道办事处', '乡镇街道',
            '苏木乡镇'],
        'community': ['社区', '村', '嘎查', '居委会', '村委会', '社区村',
            '嘎查村'],
        }

    def _parse_level(self, column, raw):
        text = re.sub(r'[\s/、]', '', _text(raw))
        for level, aliases in self.LEVEL_ALIASES.items():
            if text in aliases:
                return level
        return self._parse_selection(column, raw)

    def _parse_region_code(self, column, raw):
        code = _text(raw)
        if not self._check_code(code):
            raise RowError('msg_import_invalid_region_code')
        return code

    def _parse_parent_code(self, column, raw):
        code = _text(raw)
        if not self._check_code(code):
            raise RowError('msg_import_invalid_region_code')
        if code not in self.file_codes:
            if code not in self.regions or not self.regions[code][1]:
                raise RowError('msg_import_unknown_parent')
        return code

    def check_row(self, row, values):
        good = super().check_row(row, values)
        code = values['code']
        if not values.get('level'):
            values['level'] = self.level_of(code)
        parent = values.get('parent')
        if parent == code:
            self.add_issue(row, 'parent', RowError('msg_import_parent_self'))
            return False
        if not parent:
            for candidate in self.parent_codes(code):
                if candidate in self.file_codes or (
                        candidate in self.regions
                        and self.regions[candidate][1]):
                    values['parent'] = parent = candidate
                    break
            else:
                if self.parent_codes(code):
                    self.add_issue(row, 'code', RowError(
                            'msg_import_no_parent',
                            codes='、'.join(self.parent_codes(code))))
                    return False
        return good

    def check_existing(self, checked):
        super().check_existing(checked)
        # Resolve the parents inside the file: every region must hang from
        # a region of the platform within the user's scope (or be a root
        # for a user without scope).
        by_code = {v['code']: (row, v) for row, v in checked}
        anchors = {}

        def anchor(code, seen):
            if code in anchors:
                return anchors[code]
            if code in seen:
                return 'cycle'
            seen.add(code)
            row, values = by_code[code]
            parent = values.get('parent')
            if not parent:
                result = None
            elif parent in by_code:
                result = anchor(parent, seen)
            elif parent in self.file_codes:
                result = 'bad'  # the parent row has its own issue
            else:
                result = self.regions[parent][0]
            anchors[code] = result
            return result

        for code, (row, values) in by_code.items():
            result = anchor(code, set())
            if result == 'cycle':
                self.add_issue(
                    row, 'parent', RowError('msg_import_parent_cycle'))
            elif result == 'bad':
                self.add_issue(row, 'parent', RowError(
                        'msg_import_parent_row_error'))
            elif result is None:
                if self.scope is not None:
                    self.add_issue(row, 'code', RowError(
                            'msg_import_region_out_of_scope',
                            scope=self.scope_string()))
            elif result not in self.allowed_regions:
                self.add_issue(row, 'parent', RowError(
                        'msg_import_region_out_of_scope',
                        scope=self.scope_string()))

    def create(self, records):
        "Create the regions generation by generation, parents first"
        pool = Pool()
        Region = pool.get('elder.region')
        ids = {code: id_ for code, (id_, _) in self.regions.items()}
        pending = list(records)
        created = []
        while pending:
            generation = [
                v for v in pending
                if not v.get('parent') or v['parent'] in ids]
            if not generation:  # not an assert: kept under python -O
                raise ValueError('cycle left in the regions')
            in_generation = {id(v) for v in generation}
            pending = [v for v in pending if id(v) not in in_generation]
            to_create = []
            for values in generation:
                values = values.copy()
                if values.get('parent'):
                    values['parent'] = ids[values['parent']]
                to_create.append(values)
            regions = self._create(Region, to_create)
            ids.update((r.code, r.id) for r in regions)
            created.extend(regions)
        return created


class ImportStart(ModelView):
    "Import from Excel"
    __name__ = 'elder.import.start'
    kind = fields.Selection([
            ('elder', "Older People"),
            ('provider', "Providers"),
            ('region', "Regions"),
            ], "Kind", required=True)
    template = fields.Binary(
        "Template", filename='template_name', readonly=True,
        help="Download the template, fill it in and choose it below.")
    template_name = fields.Char("Template Name", readonly=True)
    file = fields.Binary(
        "File", filename='file_name', required=True,
        help="The filled Excel workbook (.xlsx).")
    file_name = fields.Char("File Name")

    @staticmethod
    def default_kind():
        return 'elder'

    @fields.depends('kind')
    def on_change_kind(self):
        pool = Pool()
        Import = pool.get('elder.import', type='wizard')
        self.template = self.template_name = None
        if self.kind:
            self.template, self.template_name = Import.get_template(self.kind)


class ImportResult(ModelView):
    "Import result"
    __name__ = 'elder.import.result'
    success = fields.Boolean("Success", readonly=True)
    report = fields.Text("Report", readonly=True)
    error_file = fields.Binary(
        "Error File", filename='error_file_name', readonly=True,
        states={'invisible': Eval('success', True)})
    error_file_name = fields.Char("Error File Name", readonly=True)


class Import(Wizard):
    "Import from Excel"
    __name__ = 'elder.import'
    start = StateView('elder.import.start',
        'elder_base.import_start_view_form', [
            Button("Cancel", 'end', 'tryton-cancel'),
            Button("Import", 'import_', 'tryton-ok', default=True),
            ])
    import_ = StateTransition()
    result = StateView('elder.import.result',
        'elder_base.import_result_view_form', [
            Button("Import Another File", 'start', 'tryton-back',
                validate=False),
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    @classmethod
    def importers(cls):
        "Return the importer class of each kind (modules may add kinds)"
        return {
            'elder': ElderImporter,
            'provider': ProviderImporter,
            'region': RegionImporter,
            }

    @classmethod
    def get_importer(cls, kind):
        return cls.importers()[kind]()

    @classmethod
    def get_template(cls, kind):
        "Return the template bytes and file name of a kind"
        importer = cls.get_importer(kind)
        return importer.template(), importer.template_name()

    def default_start(self, fields):
        kind = getattr(self.start, 'kind', None) or 'elder'
        template, name = self.get_template(kind)
        return {
            'kind': kind,
            'template': template,
            'template_name': name,
            'file': None,
            'file_name': None,
            }

    def transition_import_(self):
        pool = Pool()
        ModelAccess = pool.get('ir.model.access')
        importer = self.get_importer(self.start.kind)
        with check_access():
            ModelAccess.check(importer.model, 'create')
        data = self.start.file
        # Do not keep the file (up to MAX_FILE_SIZE) in the wizard session
        self.start.file = self.start.template = None
        count = importer.run(data)
        Event = pool.get('security.audit.event')
        Event.log(
            'import', object=importer.model,
            result='success' if count is not None else 'failure',
            details={
                'file': self.start.file_name, 'count': count,
                'issues': len(importer.issues)})
        self.result.success = count is not None
        self.result.report = importer.report()
        self.result.error_file = importer.error_file()
        self.result.error_file_name = (
            _msg('msg_import_error_file_name', name=(
                    (self.start.file_name or '').rsplit('.', 1)[0]
                    or importer.kind_string())) + '.xlsx'
            if importer.issues else None)
        return 'result'

    def default_result(self, fields):
        return {
            'success': self.result.success,
            'report': self.result.report,
            'error_file': self.result.error_file,
            'error_file_name': self.result.error_file_name,
            }


class ImportTemplate(Report):
    "Import template: data = {'kind': 'elder' | 'provider' | 'region'}"
    __name__ = 'elder.import.template'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        Import = pool.get('elder.import', type='wizard')
        action_id = data.get('action_id')
        if action_id is None:
            with without_check_access():
                action, = ActionReport.search([
                        ('report_name', '=', cls.__name__),
                        ], limit=1)
        else:
            action = ActionReport(action_id)
        cls.check_access(action, None, [])
        kind = data.get('kind') or 'elder'
        if kind not in Import.importers():
            raise ImportError_(_msg('msg_import_unknown_kind', kind=kind))
        content, name = Import.get_template(kind)
        return ('xlsx', content, False, name.rsplit('.', 1)[0])


class ExcelExport(Report):
    """Excel export of the selected records with the columns of the list.

    The records are read with the user's access rights: model and field
    access and record rules apply (a record outside the user's rules raises
    an AccessError)."""
    __name__ = 'elder.export.xlsx'

    @classmethod
    def execute(cls, ids, data):
        pool = Pool()
        ActionReport = pool.get('ir.action.report')
        IrModel = pool.get('ir.model')
        Date = pool.get('ir.date')
        ids = list(map(int, ids or []))
        model = data.get('model')
        action_id = data.get('action_id')
        if action_id is None:
            domain = [('report_name', '=', cls.__name__)]
            if model:
                domain.append(('model', '=', model))
            # check_access below refuses the users outside its groups
            with without_check_access():
                action, = ActionReport.search(domain, limit=1)
        else:
            action = ActionReport(action_id)
        model = action.model or model
        cls.check_access(action, model, ids)
        cls.check_export_approval(model, ids)
        with check_access():
            content = cls.render_xlsx(model, ids)
        cls.audit_export(model, ids)
        filename = '%s-%s' % (
            IrModel.get_name(model), Date.today().isoformat())
        return ('xlsx', content, False, filename)

    @classmethod
    def check_export_approval(cls, model, ids):
        """Refuse a bulk export (more rows than the security configuration
        allows) without an export request of the user for the model,
        approved by another person and still valid (elder_security)."""
        ExportRequest = Pool().get('security.export.request')
        ExportRequest.check_export(model, len(ids))

    @classmethod
    def audit_export(cls, model, ids):
        """Record the export of records of model in the audit trail of
        elder_security (one event per export, with the ids)"""
        pool = Pool()
        Event = pool.get('security.audit.event')
        Event.log('export', object=model, details={
                'format': 'xlsx', 'count': len(ids), 'ids': ids[:1000]})

    @classmethod
    def list_fields(cls, model):
        "Return the names of the visible columns of the model's list view"
        pool = Pool()
        Model = pool.get(model)
        view = Model.fields_view_get(view_type='tree')
        tree = etree.fromstring(view['arch'])
        names = []
        for element in tree.iter('field'):
            name = element.get('name')
            if (not name or name in names or name not in view['fields']
                    or name not in Model._fields):
                continue
            if element.get('tree_invisible') in {'1', 'True', 'true'}:
                continue
            if element.get('optional') == '1':  # hidden optional column
                continue
            if view['fields'][name]['type'] == 'binary':
                continue
            names.append(name)
        return names

    @classmethod
    def render_xlsx(cls, model, ids):
        from openpyxl import Workbook
        from openpyxl.styles import Font, PatternFill
        pool = Pool()
        Model = pool.get(model)
        IrModel = pool.get('ir.model')

        names = cls.list_fields(model)
        definitions = Model.fields_get(names)
        read_names = []
        for name in names:
            if definitions[name]['type'] in {
                    'many2one', 'one2many', 'many2many', 'one2one'}:
                read_names.append(name + '.rec_name')
            else:
                read_names.append(name)
        rows = {}
        for sub_ids in grouped_slice(ids, _IN_MAX):
            for row in Model.read(list(sub_ids), read_names):
                rows[row['id']] = row

        workbook = Workbook(write_only=True)
        sheet = workbook.create_sheet(_sheet_title(IrModel.get_name(model)))
        sheet.freeze_panes = 'A2'
        for index, name in enumerate(names, start=1):
            width = 12 if definitions[name]['type'] in {
                'date', 'integer', 'boolean', 'selection'} else 20
            if name in {'name', 'id_number', 'credit_code', 'region'}:
                width = 24
            sheet.column_dimensions[_column_letter(index)].width = width
        if names:
            sheet.auto_filter.ref = 'A1:%s%s' % (
                _column_letter(len(names)), len(ids) + 1)
        bold = Font(bold=True)
        fill = PatternFill('solid', fgColor='DDEBF7')
        sheet.append([
                _cell(sheet, definitions[n]['string'], font=bold, fill=fill)
                for n in names])
        for id_ in ids:
            if id_ not in rows:
                continue
            row = rows[id_]
            sheet.append([
                    _cell(sheet, cls.cell_value(definitions[n], n, row))
                    for n in names])
        content = BytesIO()
        workbook.save(content)
        return content.getvalue()

    @classmethod
    def cell_value(cls, definition, name, row):
        type_ = definition['type']
        if type_ in {'many2one', 'one2one'}:
            value = row.get(name + '.')
            return value['rec_name'] if value else None
        if type_ in {'one2many', 'many2many'}:
            return '、'.join(v['rec_name'] for v in row.get(name + '.') or [])
        value = row.get(name)
        if type_ == 'selection':
            selection = definition.get('selection')
            if isinstance(selection, (list, tuple)):
                return dict(selection).get(value, value) or None
            return value
        if type_ == 'multiselection':
            selection = dict(definition.get('selection') or [])
            return '、'.join(selection.get(v, v) for v in value or [])
        if isinstance(value, dt.datetime):
            return value.replace(tzinfo=None)
        if isinstance(value, (dt.timedelta, dict, list, tuple)):
            return str(value)
        if isinstance(value, (bytes, bytearray)):
            return None
        return value

# This file is part of the eldercare platform. See LICENSE.
"""Masking of personal data (GB/T 35273 de-identification of display).

Values of the encrypted fields that carry a mask kind are masked by
EncryptedMixin.read whenever the read runs with access checks (web client,
JSON-RPC, proteus, Excel export), for every user. The "Show Full Data"
wizard reveals the values of one record to the members of
group_personal_data_full and writes a full_view audit event per field.
"""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.model.exceptions import AccessError
from trytond.pool import Pool
from trytond.transaction import Transaction, check_access
from trytond.wizard import Button, StateView, Wizard


def mask_citizen_id(value):
    "150102194501011234 → 150102********1234 (birth date hidden)"
    if len(value) <= 10:
        return '*' * len(value)
    return value[:6] + '*' * (len(value) - 10) + value[-4:]


def mask_phone(value):
    "13812341234 → 138****1234"
    if len(value) < 8:
        return '*' * len(value)
    return value[:3] + '*' * (len(value) - 7) + value[-4:]


MASKS = {
    'citizen_id': mask_citizen_id,
    'phone': mask_phone,
    }


def mask_value(kind, value):
    if value is None or value == '' or not kind:
        return value
    return MASKS[kind](str(value))


def has_full_access():
    "Whether the current user is in group_personal_data_full"
    pool = Pool()
    User = pool.get('res.user')
    ModelData = pool.get('ir.model.data')
    transaction = Transaction()
    if transaction.user == 0:
        return True
    group_id = ModelData.get_id('elder_security', 'group_personal_data_full')
    return group_id in User.get_groups()


class RevealShow(ModelView):
    "Show full personal data"
    __name__ = 'security.personal_data.reveal.show'
    data = fields.Text("Full Data", readonly=True)


class Reveal(Wizard):
    "Show full personal data"
    __name__ = 'security.personal_data.reveal'
    start = StateView(
        'security.personal_data.reveal.show',
        'elder_security.personal_data_reveal_show_view_form', [
            Button("Close", 'end', 'tryton-close', default=True),
            ])

    def default_start(self, fields):
        pool = Pool()
        Event = pool.get('security.audit.event')
        Model = self.model
        records = list(self.records)
        names = [
            n for n, k in getattr(Model, '_encrypted_fields', {}).items()
            if k]
        if not has_full_access():
            for record in records:
                Event.log(
                    'full_view', object=record, result='failure',
                    details={'reason': 'not in group_personal_data_full'})
            raise AccessError(gettext(
                    'elder_security.msg_personal_data_full_denied'))
        # The user must be allowed to read the records and the fields
        with check_access():
            Model.read([r.id for r in records], names + ['rec_name'])
        values = Model.encrypted_plain(records, names)
        definitions = Model.fields_get(names)
        lines = []
        for record in records:
            lines.append(record.rec_name)
            for name in names:
                value = values[record.id][name]
                lines.append('  %s: %s' % (
                        definitions[name]['string'],
                        '' if value is None else value))
                if value not in (None, ''):
                    Event.log('full_view', object=record, field=name)
        return {'data': '\n'.join(lines)}

# This file is part of the eldercare platform. See LICENSE.
"""What elder_base adds to the data-subject requests of elder_security: the
older person's record and the contacts (copy and anonymisation)."""
from trytond.model import fields
from trytond.modules.elder_security.dsr import ANONYMISED, pseudonym
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

# Personal fields of elder.elder cleared by an anonymisation (the name is
# replaced and the citizen ID pseudonymised: both are required).
ELDER_CLEARED = [
    'phone', 'hukou_address', 'address', 'latitude', 'longitude',
    'health_summary', 'chronic_diseases', 'note']
CONTACT_CLEARED = ['address', 'note']


def _set_raw(Model, record_id, values):
    """Write values bypassing validation and states (an anonymised record
    is no longer a valid one: its citizen ID is a pseudonym)"""
    encrypted = getattr(Model, '_encrypted_fields', {})
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    columns, sql_values = [], []
    for name, value in values.items():
        if name in encrypted:
            Model._encrypted_write(record_id, name, value)
        elif name in Model._fields and not isinstance(
                Model._fields[name], fields.Function):
            columns.append(getattr(table, name))
            sql_values.append(value)
    if columns:
        cursor.execute(*table.update(
                columns, sql_values, where=table.id == record_id))
    # forget the cached values of the records read before
    transaction = Transaction()
    transaction.counter += 1
    transaction.get_cache().pop(Model.__name__, None)


class SubjectRequest(metaclass=PoolMeta):
    __name__ = 'security.subject.request'

    @classmethod
    def collect_subject_data(cls, party):
        pool = Pool()
        Elder = pool.get('elder.elder')
        Contact = pool.get('elder.contact')
        data = super().collect_subject_data(party)
        with without_check_access():
            elders = Elder.search([('party', '=', party.id)])
            data['elder'] = [cls._record_values(e) for e in elders]
            data['elder_contacts'] = [
                cls._record_values(c) for e in elders for c in e.contacts]
            data['contact_of'] = [
                cls._record_values(c)
                for c in Contact.search([('party', '=', party.id)])]
        return data

    @classmethod
    def anonymise_subject(cls, party):
        pool = Pool()
        Elder = pool.get('elder.elder')
        Contact = pool.get('elder.contact')
        with without_check_access():
            for elder in Elder.search([('party', '=', party.id)]):
                values = {n: None for n in ELDER_CLEARED}
                values['name'] = ANONYMISED
                values['id_number'] = pseudonym(elder.id_number)
                _set_raw(Elder, elder.id, values)
                # the family of the person is about the person too
                Contact.delete(list(elder.contacts))
            for contact in Contact.search([('party', '=', party.id)]):
                values = {n: None for n in CONTACT_CLEARED}
                values.update(name=ANONYMISED, phone=None)
                _set_raw(Contact, contact.id, values)
        super().anonymise_subject(party)

# This file is part of the eldercare platform. See LICENSE.
"""Screen pop: who is calling. The caller's number is normalised (as
elder_base stores phones) and looked up through the blind indexes of the
encrypted phone fields (elder.elder, elder.contact, elder.practitioner)
and the providers' published numbers; nothing is decrypted to search."""
from trytond.modules.elder_base.identity import normalize_phone
from trytond.pool import Pool
from trytond.transaction import without_check_access

CALLER_KINDS = [
    ('unknown', "Unknown"),
    ('elder', "Older Person"),
    ('contact', "Family / Contact"),
    ('practitioner', "Practitioner"),
    ('provider', "Provider"),
    ]


NO_MATCH = {'kind': 'unknown', 'elder': None, 'contact': None,
    'practitioner': None, 'provider': None, 'matches': 0}


def normalize(number):
    "The number as the platform stores phones, or None"
    number = (number or '').strip()
    if number.startswith('+86'):
        number = number[3:]
    elif number.startswith('0086'):
        number = number[4:]
    try:
        return normalize_phone(number)
    except ValueError:
        return None


@without_check_access
def match_number(number):
    """{'kind', 'elder', 'contact', 'practitioner', 'provider', 'matches'}
    for a caller number: an older person first, then a family member or
    contact (and their older person), a practitioner, a provider."""
    pool = Pool()
    Elder = pool.get('elder.elder')
    Contact = pool.get('elder.contact')
    Practitioner = pool.get('elder.practitioner')
    Provider = pool.get('elder.provider')
    result = {'kind': 'unknown', 'elder': None, 'contact': None,
        'practitioner': None, 'provider': None, 'matches': 0}
    phone = normalize(number)
    if not phone:
        return result
    elders = Elder.search([('phone', '=', phone)],
        order=[('state', 'ASC'), ('id', 'ASC')])
    if elders:
        active = [e for e in elders if e.state == 'active'] or elders
        result.update(kind='elder', elder=active[0], matches=len(elders))
        return result
    contacts = Contact.search([('phone', '=', phone)], order=[('id', 'ASC')])
    if contacts:
        result.update(kind='contact', contact=contacts[0],
            elder=contacts[0].elder, matches=len(contacts))
        return result
    practitioners = Practitioner.search([('phone', '=', phone)],
        order=[('id', 'ASC')])
    if practitioners:
        result.update(kind='practitioner', practitioner=practitioners[0],
            provider=practitioners[0].provider, matches=len(practitioners))
        return result
    providers = Provider.search([('phone', '=', phone)], order=[('id', 'ASC')])
    if providers:
        result.update(kind='provider', provider=providers[0],
            matches=len(providers))
    return result


@without_check_access
def match_numbers(numbers):
    """{normalised number: match} for many numbers at once (the CTI's
    batches): one blind-index search per kind of party for all the numbers
    still unmatched, in the order of match_number; a number nobody has is
    absent from the result."""
    pool = Pool()
    phones = sorted({p for p in map(normalize, numbers) if p})
    result = {}
    for kind, model, order in [
            ('elder', 'elder.elder', [('state', 'ASC'), ('id', 'ASC')]),
            ('contact', 'elder.contact', [('id', 'ASC')]),
            ('practitioner', 'elder.practitioner', [('id', 'ASC')]),
            ('provider', 'elder.provider', [('id', 'ASC')])]:
        left = [p for p in phones if p not in result]
        if not left:
            break
        found = {}
        for record in pool.get(model).search([('phone', 'in', left)],
                order=order):
            found.setdefault(normalize(record.phone), []).append(record)
        for phone, records in found.items():
            if phone not in left:
                continue
            match = dict(NO_MATCH, kind=kind, matches=len(records))
            if kind == 'elder':
                active = [e for e in records if e.state == 'active'] \
                    or records
                match['elder'] = active[0]
            elif kind == 'contact':
                match.update(contact=records[0], elder=records[0].elder)
            elif kind == 'practitioner':
                match.update(practitioner=records[0],
                    provider=records[0].provider)
            else:
                match['provider'] = records[0]
            result[phone] = match
    return result

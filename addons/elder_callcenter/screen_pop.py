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

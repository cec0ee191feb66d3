"""Sensitivity classes of personal data (security issue item 9, GB/T 35273).

Every field an addons module defines (ir.model.field.module, so fields
added to res.user or party.party count too) whose name looks like personal
data must carry a sensitivity class, declared on the model class::

    class Elder(EncryptedMixin, ModelSQL, ModelView):
        __name__ = 'elder.elder'
        _sensitivity = {'name': 'personal', 'id_number': 'sensitive', ...}

Classes (see addons/elder_security/README.rst, "Sensitivity classes"):
public, internal, personal (个人信息), sensitive (个人敏感信息). A field in
``_encrypted_fields`` is sensitive unless tagged otherwise; the storage
columns ``<name>_enc`` and ``<name>_bidx`` take the class of ``<name>``.
``_sensitivity`` of every class of the model's MRO is merged, so a module
extending a model tags only the fields it adds.

A field whose name matches a pattern below but holds no personal data goes
into ALLOWED with the reason; everything else gets a tag.
"""
import re

import pytest

from platform_db import module_order, platform_modules, platform_transaction

CLASSES = ('public', 'internal', 'personal', 'sensitive')

# Names that hold, or may hold, personal information (GB/T 35273 附录 A/B).
PATTERNS = {
    'identity': r'id_number|citizen|passport|identity|(^|_)ric($|_)',
    'contact': r'phone|mobile|(^|_)tel($|_)|telephone|e?mail|wechat|openid'
        r'|unionid',
    'address': r'address|hukou|residence|domicile',
    'person': r'birth|(^|_)age($|_)|(^|_)sex($|_)|gender|ethnic|marital'
        r'|religio|nationality|politic',
    'health': r'health|disease|diagnos|medical|medicat|allerg|disab'
        r'|chronic|blood|illness|dementia|ability|assessment',
    'location': r'(^|_)(lat|lon|lng|latitude|longitude|gps|location'
        r'|position|coordinates?)($|_)',
    'biometric': r'face|biometric|embedding|fingerprint|photo|voice|iris',
    'money': r'bank|account_number|card_number|iban|income|salary|pension'
        r'|balance',
    'credential': r'password|secret|totp|token|(^|_)hash($|_)|private_key'
        r'|(^|_)key($|_)',
}
# A person-like model (one with identity, birth or sex fields): its
# name and free-text fields are personal too.
PERSON_NAME = r'^(name|full_name|first_name|last_name|family_name)$'
PERSON_TEXT = r'^(note|notes|comment|remark|description)$'
PERSON_MARKERS = r'id_number|birth|(^|_)sex($|_)'

# (model, field), (model, '*') for every field or (None, field) for any
# model: matches of PATTERNS that
# are not personal information, each with why.
ALLOWED = {
    ('security.audit.event', 'hash'): 'SM3 of the audit row (integrity)',
    ('security.audit.event', 'prev_hash'): 'SM3 of the previous audit row',
    ('security.audit.chain', 'head_hash'): 'SM3 chain head (integrity)',
    ('security.audit.chain', 'anchor_hash'): 'SM3 chain anchor (integrity)',
    ('security.configuration', '*'): 'password and TOTP policy thresholds, '
        'no data about a person',
}


def tags_of(Model):
    "{field: class} merged over the MRO, encrypted fields sensitive"
    tags = {}
    for klass in reversed(Model.__mro__):
        encrypted = klass.__dict__.get('_encrypted_fields') or {}
        for name in encrypted:
            tags.setdefault(name, 'sensitive')
        tags.update(klass.__dict__.get('_sensitivity') or {})
    for name in list(tags):
        for suffix in ('_enc', '_bidx'):
            if name + suffix in Model._fields:
                tags.setdefault(name + suffix, tags[name])
    return tags


def matches(model, field, person_like):
    kinds = [kind for kind, pattern in PATTERNS.items()
        if re.search(pattern, field)]
    if person_like and re.search(PERSON_NAME, field):
        kinds.append('name of a person')
    if person_like and re.search(PERSON_TEXT, field):
        kinds.append('free text about a person')
    return kinds


@pytest.fixture(scope='module')
def fields_of_ours():
    "[(model, field, module, Model class)] of the fields our modules define"
    modules, missing = platform_modules()
    if missing:
        pytest.fail('addons modules trytond cannot import (pip install -e '
            f"addons/<module>): {', '.join(missing)}", pytrace=False)
    modules = module_order(modules)
    from trytond.pool import Pool
    with platform_transaction(modules):
        pool = Pool()
        Field = pool.get('ir.model.field')
        result = []
        for field in Field.search([('module', 'in', modules)],
                order=[('model', 'ASC'), ('name', 'ASC')]):
            try:
                Model = pool.get(field.model)
            except KeyError:
                continue
            if field.name in Model._fields:
                result.append((field.model, field.name, field.module, Model))
    return result


def test_personal_fields_tagged(fields_of_ours):
    untagged = {}
    for model, field, module, Model in fields_of_ours:
        tags = tags_of(Model)
        if field in tags:
            continue
        person_like = any(re.search(PERSON_MARKERS, f) for f in Model._fields)
        kinds = matches(model, field, person_like)
        if not kinds or {(model, field), (model, '*'), (None, field)} & set(ALLOWED):
            continue
        untagged.setdefault((module, model), []).append(
            f'{field!r}: ...,  # {", ".join(kinds)}')
    if untagged:
        lines = ['Fields that look like personal data have no sensitivity '
            'class. Add them to the _sensitivity dict of the model class '
            f'({" / ".join(CLASSES)}), or, if they hold no personal data, '
            'to ALLOWED in tests/test_sensitivity.py with the reason:']
        for (module, model), fields in sorted(untagged.items()):
            lines.append(f'  addons/{module}: {model}')
            lines += [f'      {f}' for f in fields]
        pytest.fail('\n'.join(lines), pytrace=False)


def test_tags_valid(fields_of_ours):
    "Tags name real fields and known classes"
    problems = set()
    for model, _, _, Model in fields_of_ours:
        for field, klass in tags_of(Model).items():
            if klass not in CLASSES:
                problems.add(f'{model}.{field}: unknown class {klass!r}')
            if field not in Model._fields:
                problems.add(f'{model}.{field}: no such field')
    assert not problems, '\n'.join(sorted(problems))

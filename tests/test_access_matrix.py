"""Access matrix (security issue item 9): every role × every model.

For every ModelSQL model registered by an addons module (ir.model.module)
and every role below, the model access a member of that role actually gets
(``ir.model.access.get_access``: read, write, create, delete) must equal
what the module declares in ``addons/<module>/tests/access_matrix.json``::

    {"elder.elder": {"elder_base.group_supervisor": "rwc", ...}, ...}

A value is a subset of ``rwcd`` (read, write, create, delete), ``""`` for
nothing; every role of ROLES (the platform's roles) must be listed. The
groups that the subsystem modules add are roles too: a row names those that
get some access to the model, a group left out gets nothing. Keys starting with ``_`` are
comments (``"_why": "..."`` in a row explains a surprising permission). The model list comes from the
database, so a new model (or a new module) fails this test until its author
writes the expected line, and a changed access record fails it until the
author updates the line: both are reviewed in the diff.

A module that changes the access of a model of a module below it (an
ir.model.access record on another module's model) declares the roles it
changes in a row of its own file: rows of the same model are merged role by
role, the module activated last winning.

Record rules (which rows), field access and the ORM refusals written in
Python (e.g. audit events are never written through the ORM) are tested by
the modules' own tests; this is the model-level layer only.
"""
import json

import pytest

from platform_db import (
    ADDONS, load_json, module_order, our_models, platform_modules,
    platform_transaction)

# role name -> res.group XML id (None: a user without any group)
ROLES = {
    'elder_base.group_supervisor': 'elder_base.group_supervisor',
    'elder_base.group_operator': 'elder_base.group_operator',
    'elder_base.group_provider_admin': 'elder_base.group_provider_admin',
    'elder_base.group_caregiver': 'elder_base.group_caregiver',
    'elder_base.group_agent': 'elder_base.group_agent',
    'elder_base.group_finance': 'elder_base.group_finance',
    'elder_security.group_system_admin': 'elder_security.group_system_admin',
    'elder_security.group_security_admin':
        'elder_security.group_security_admin',
    'elder_security.group_audit_admin': 'elder_security.group_audit_admin',
    'elder_security.group_privacy': 'elder_security.group_privacy',
    'elder_security.group_personal_data_full':
        'elder_security.group_personal_data_full',
    'res.group_admin': 'res.group_admin',
    'anonymous': None,
}
PERMS = {'r': 'read', 'w': 'write', 'c': 'create', 'd': 'delete'}
MATRIX_FILE = 'tests/access_matrix.json'


def perms(access):
    "'rwcd' subset from get_access's {'read': bool, ...}"
    return ''.join(p for p, mode in PERMS.items() if access[mode])


def normalise(value):
    if not isinstance(value, str) or set(value) - set(PERMS):
        raise ValueError(f'{value!r} is not a subset of "rwcd"')
    return ''.join(p for p in PERMS if p in value)


@pytest.fixture(scope='module')
def matrix():
    """(actual {model: {role: perms}}, {model: module}, roles present,
    modules in dependency order)"""
    modules, missing = platform_modules()
    if missing:
        pytest.fail('addons modules trytond cannot import (pip install -e '
            f"addons/<module>, ./elder.sh test does it): {', '.join(missing)}",
            pytrace=False)
    modules = module_order(modules)
    from trytond.pool import Pool
    from trytond.transaction import Transaction
    with platform_transaction(modules):
        pool = Pool()
        User = pool.get('res.user')
        ModelData = pool.get('ir.model.data')
        Access = pool.get('ir.model.access')
        models = our_models(pool, modules)
        roles = dict(ROLES)
        known = set(ROLES.values())
        for data in ModelData.search([
                    ('model', '=', 'res.group'),
                    ('module', 'in', modules),
                    ], order=[('module', 'ASC'), ('fs_id', 'ASC')]):
            xml_id = f'{data.module}.{data.fs_id}'
            if xml_id not in known:
                roles[xml_id] = xml_id
        users = {}
        for role, xml_id in roles.items():
            groups = []
            if xml_id:
                module, name = xml_id.split('.')
                try:
                    groups = [ModelData.get_id(module, name)]
                except KeyError:
                    continue  # the module defining the group is not active
            user, = User.create([{
                        'login': f"matrix_{role.replace('.', '_')}",
                        'name': role,
                        'groups': [('add', groups)],
                        }])
            assert [g.id for g in user.groups] == groups, role
            users[role] = user.id
        actual = {}
        for role, user_id in users.items():
            with Transaction().set_user(user_id):
                access = Access.get_access(sorted(models))
            for model in models:
                actual.setdefault(model, {})[role] = perms(access[model])
    return actual, models, list(users), modules


def expected_matrix(modules):
    "{model: (module of the file, {role: perms})}, problems"
    expected, problems = {}, []
    for module in modules:
        path = ADDONS / module / MATRIX_FILE
        if not path.exists():
            continue
        try:
            declared = load_json(path)
        except ValueError as error:
            problems.append(f'{path.relative_to(ADDONS.parent)}: {error}')
            continue
        for model, row in declared.items():
            if model.startswith('_'):
                continue  # a comment
            try:
                row = {r: normalise(v) for r, v in row.items()
                    if not r.startswith('_')}
            except (ValueError, AttributeError) as error:
                problems.append(f'{path.relative_to(ADDONS.parent)}: '
                    f'{model}: {error}')
                continue
            # modules in dependency order: the last one wins, role by role
            previous = expected.get(model, (module, {}))[1]
            expected[model] = (module, {**previous, **row})
    return expected, problems


def declared(row):
    "The row as a file declares it: every platform role, groups with access"
    return {r: v for r, v in row.items() if r in ROLES or v}


def test_access_matrix(matrix):
    actual, models, roles, modules = matrix
    expected, problems = expected_matrix(modules)
    to_add = {}  # module -> {model: row}
    group_rows = {}  # module -> {model: {its group: actual perms}}
    differences = []
    for model in sorted(models):
        module = models[model]
        if model not in expected:
            to_add.setdefault(module, {})[model] = declared(actual[model])
            continue
        file_module, row = expected[model]
        missing_roles = [r for r in roles if r in ROLES and r not in row]
        if missing_roles:
            to_add.setdefault(file_module, {})[model] = declared(
                actual[model])
            continue
        for role in roles:
            if row.get(role, '') != actual[model][role]:
                if role not in ROLES:
                    # declared by the module of the group
                    group_rows.setdefault(role.split('.')[0], {}).setdefault(
                        model, {})[role] = actual[model][role]
                    continue
                differences.append(
                    f'  {model} × {role}: expected {row.get(role, "")!r} '
                    f'(addons/{file_module}/{MATRIX_FILE}), '
                    f'actual {actual[model][role]!r}')
    unknown = sorted(set(expected) - set(models))
    unknown_roles = sorted({
            r for _, row in expected.values() for r in row} - set(roles))
    message = []
    if problems:
        message += ['Unreadable access matrix files:'] + problems
    for module, rows in sorted(to_add.items()):
        message.append(
            f'Model access without expectations: review the actual access '
            f'below and add it to addons/{module}/{MATRIX_FILE} (every role, '
            f'"" for none; fix the ir.model.access records first if a role '
            f'gets more than it should):')
        message.append(json.dumps(rows, indent=4, ensure_ascii=False))
    for module, rows in sorted(group_rows.items()):
        message.append(
            f'Access of the groups of {module} differs from addons/{module}/'
            f'{MATRIX_FILE}: review the actual access below and merge it '
            f'into the rows there (a group left out of a row gets nothing):')
        message.append(json.dumps(rows, indent=4, ensure_ascii=False,
                sort_keys=True))
    if differences:
        message.append('Access differs from the expectations (fix the '
            'ir.model.access records, or the expectation if the change is '
            'intended and reviewed; a module that grants access on a model '
            'of a module below it declares that whole row in its own file):')
        message += differences
    if unknown:
        message.append('Expectations for models that are not ModelSQL '
            'models of an active addons module (remove them): '
            + ', '.join(unknown))
    if unknown_roles:
        message.append('Unknown roles in the expectations: '
            + ', '.join(unknown_roles))
    if message:
        pytest.fail('\n'.join(message), pytrace=False)


# Models that any user, even one without a group, may change; each with why.
OPEN_TO_EVERYBODY = {
    'security.export.request': 'everybody files his own export requests; '
        'a record rule limits him to them, the state is changed by buttons',
}


def test_no_access_without_group(matrix):
    """A user without any group may not change anything: a model left without
    a default access record (group empty, every permission False) is open to
    everybody in trytond, so this catches a forgotten access record even
    before its expectation is reviewed."""
    actual, models, roles, _ = matrix
    writable = sorted(m for m in models
        if set(actual[m]['anonymous']) - {'r'} and m not in OPEN_TO_EVERYBODY)
    assert not writable, (
        'models that a user without any group may write, create or delete '
        '(add ir.model.access records, a default one with every permission '
        f'False): {", ".join(writable)}')

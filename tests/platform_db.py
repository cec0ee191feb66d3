"""A trytond test database with every addons module activated, shared by the
platform-wide security checks (test_access_matrix.py, test_sensitivity.py).

The modules are elderctl.addon_modules() (ELDER_MODULES limits them) that
trytond can import; the database is the process's DB_NAME (conftest.py),
restored from a DB_CACHE template when there is one.
"""
import contextlib
import importlib.util
import json
from pathlib import Path

import elderctl  # on sys.path through the root conftest.py

ROOT = Path(__file__).resolve().parent.parent
ADDONS = ROOT / 'addons'


def platform_modules():
    "(modules to activate, addons modules trytond cannot import)"
    modules, missing = [], []
    for module in elderctl.addon_modules():
        if importlib.util.find_spec(f'trytond.modules.{module}') is None:
            missing.append(module)  # not pip-installed (editable) yet
        else:
            modules.append(module)
    return modules, missing


@contextlib.contextmanager
def platform_transaction(modules):
    """A root transaction on a fresh database with the modules activated,
    rolled back and dropped at the end."""
    from trytond.tests import test_tryton
    from trytond.transaction import Transaction
    test_tryton.drop_db()  # a previous TestCase of this process may leave one
    # Looked up at call time: conftest.py serializes template building.
    test_tryton.activate_module(modules)
    try:
        with Transaction().start(
                test_tryton.DB_NAME, 0, context={}) as transaction:
            try:
                yield transaction
            finally:
                transaction.rollback()
    finally:
        test_tryton.drop_db()


def module_order(modules):
    "The modules in dependency order (a module after those it depends on)"
    from trytond.modules import get_module_info
    depends = {m: set(get_module_info(m).get('depends', [])) & set(modules)
        for m in modules}
    ordered = []

    def visit(module):
        if module not in ordered:
            for dependency in sorted(depends[module]):
                visit(dependency)
            ordered.append(module)
    for module in sorted(modules):
        visit(module)
    return ordered


def our_models(pool, modules):
    """{model name: module} of the ModelSQL models registered by the
    modules (ir.model.module), wizards' ModelView-only models left out"""
    from trytond.model import ModelSQL
    Model = pool.get('ir.model')
    result = {}
    for record in Model.search([('module', 'in', modules)]):
        try:
            Class = pool.get(record.name)
        except KeyError:  # left over in ir.model by an older version
            continue
        if issubclass(Class, ModelSQL):
            result[record.name] = record.module
    return result


def load_json(path):
    with open(path, encoding='utf-8') as file:
        return json.load(file)

"""pytest setup for every suite: addons/*/tests (trytond tests) and tests/.

`./elder.sh test` runs pytest with TRYTOND_DATABASE__URI (PostgreSQL) and
DB_CACHE=postgresql:// set, two processes (pytest-xdist) by default. Here:
- each process gets its own trytond test database (DB_NAME);
- building a DB_CACHE template is serialized between processes;
- module tests are imported as trytond.modules.<name>.tests.*, and the
  unittest `load_tests` suites (scenario_*.rst doctests) are collected;
- a suite that collects no test fails (unless it holds a file `.empty-ok`);
- with pytest-xdist, doctest scenarios are spread over the workers;
- a count of results per suite before pytest's summary line;
- fixtures web_server (gunicorn + sao on a test database), browser, page.
"""
import functools
import hashlib
import importlib
import os
import sys
import types
import unittest
from collections import Counter
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
ADDONS = ROOT / 'addons'
sys.path.insert(0, str(ROOT / 'tools'))
import elderctl  # noqa: E402

WORKER = os.environ.get('PYTEST_XDIST_WORKER', 'main')
DATABASE_URI = (os.environ.get('TRYTOND_DATABASE__URI')
    or os.environ.get('TRYTOND_DATABASE_URI') or '')
ON_POSTGRESQL = DATABASE_URI.startswith('postgresql')
if ON_POSTGRESQL:
    # Read by trytond.tests.test_tryton at import, so set before any test
    # module is imported. One database per process: they run in parallel.
    os.environ['DB_NAME'] = f'test_{WORKER}'


# --- DB_CACHE templates: one builder at a time -------------------------------

def _serialized(activate):
    """Let one process at a time activate a given set of modules, so the
    second one waits for the first one's template and restores it instead
    of racing it to CREATE DATABASE "test-<hash>"."""
    import fasteners
    from trytond import backend

    @functools.wraps(activate)
    def wrapper(modules, *args, **kwargs):
        modules = [modules] if isinstance(modules, str) else modules
        # per server: templates of another server do not wait for these
        key = hashlib.sha256('-'.join([DATABASE_URI, *sorted(modules)])
            .encode()).hexdigest()
        lock_dir = ROOT / 'var' / 'test-locks'
        lock_dir.mkdir(parents=True, exist_ok=True)
        with fasteners.InterProcessLock(str(lock_dir / key[:16])):
            # trytond caches the database list; the template may be new.
            backend.Database._list_cache.clear()
            return activate(modules, *args, **kwargs)
    return wrapper


def pytest_configure(config):
    if ON_POSTGRESQL and os.environ.get('DB_CACHE'):
        from trytond.tests import test_tryton, tools
        # ModuleTestCase.setUpClass and scenarios look these up at call time.
        test_tryton.activate_module = _serialized(test_tryton.activate_module)
        tools.activate_modules = _serialized(tools.activate_modules)


# --- collection ----------------------------------------------------------------

def pytest_collect_directory(path, parent):
    # Module folders are the packages trytond.modules.<name>; pytest would
    # import their __init__.py a second time as a top-level <name> package.
    if path != ADDONS and ADDONS in path.parents:
        return pytest.Dir.from_parent(parent, path=path)


def pytest_pycollect_makemodule(module_path, parent):
    if ADDONS in module_path.parents:
        return TrytonTestModule.from_parent(parent, path=module_path)


class TrytonTestModule(pytest.Module):
    "A module's test file, imported under its trytond.modules name."

    def _getobj(self):
        parts = self.path.relative_to(ADDONS).with_suffix('').parts
        return importlib.import_module('.'.join(('trytond.modules',) + parts))

    def collect(self):
        items = list(super().collect())  # TestCase classes, test functions
        module = self.obj
        if hasattr(module, 'load_tests'):
            # pytest ignores the load_tests protocol; trytond's scenario
            # files (load_doc_tests) exist only through it.
            suite = unittest.defaultTestLoader.loadTestsFromModule(module)
            names = Counter()
            for test in _flatten(suite):
                if type(test).__module__ == module.__name__:
                    continue  # a class of this module: pytest has it already
                # A doctest file by its file name: scenario_x.rst.
                doc = getattr(test, '_dt_test', None)
                name = doc.name if doc else test.id()
                names[name] += 1
                if names[name] > 1:  # one scenario run with several configs
                    name = f'{name}[{names[name]}]'
                items.append(UnittestItem.from_parent(
                        self, name=name, test=test))
        return items


def _flatten(suite):
    for test in suite:
        if isinstance(test, unittest.TestSuite):
            yield from _flatten(test)
        else:
            yield test


class UnittestItem(pytest.Item):
    "One test of a load_tests suite, e.g. a doctest scenario file."

    def __init__(self, *, test, **kwargs):
        super().__init__(**kwargs)
        self.test = test

    def runtest(self):
        result = unittest.TestResult()
        self.test.run(result)
        problems = result.errors + result.failures
        if problems:
            pytest.fail('\n'.join(text for _, text in problems), pytrace=False)
        if result.skipped:
            pytest.skip(result.skipped[0][1])

    def reportinfo(self):
        return self.path, None, self.name


class EmptySuiteItem(pytest.Item):
    def runtest(self):
        pytest.fail(f'{self.name}: collected no test (if that is expected, '
            'add a file named .empty-ok to the folder)', pytrace=False)


def _suite_of(nodeid):
    "addons/<module>/tests or the first folder of a node id."
    parts = nodeid.lstrip(':').split('::')[0].split('/')  # ::<suite>: empty
    return '/'.join(parts[:3] if parts[0] == 'addons' else parts[:1])


def pytest_collection_modifyitems(session, config, items):
    counts = Counter(_suite_of(item.nodeid) for item in items)
    for arg in config.args:
        path = Path(arg)
        path = path if path.is_absolute() else config.invocation_params.dir / path
        if path.is_dir() and ROOT in path.resolve().parents \
                and not (path / '.empty-ok').exists():
            suite = str(path.resolve().relative_to(ROOT))
            if not counts[suite]:
                items.append(EmptySuiteItem.from_parent(session, name=suite))


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    """--dist loadscope keeps a TestCase class on one worker (its setUpClass
    builds the database) and a test file's functions too (module fixtures);
    each doctest scenario builds its own database, so let them spread."""
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            if '.rst' in nodeid.rsplit('::', 1)[-1]:
                return nodeid
            return super()._split_scope(nodeid)
    if config.getvalue('dist') == 'loadscope':
        return Scheduling(config, log)


# --- per-suite results -----------------------------------------------------------

_results = {}


def pytest_runtest_logreport(report):
    if type(report).__name__ == 'SubtestReport' and report.passed:
        return  # count the test, not each of its passing subtests
    if report.when == 'call' or report.outcome != 'passed':
        outcome = 'error' if report.failed and report.when != 'call' \
            else report.outcome
        _results.setdefault(_suite_of(report.nodeid), Counter())[outcome] += 1


def pytest_terminal_summary(terminalreporter):
    if len(_results) > 0:
        terminalreporter.section('results per suite')
        for suite, counts in sorted(_results.items()):
            terminalreporter.write_line(f'{suite}: ' + ', '.join(
                    f'{counts[o]} {o}' for o in
                    ('passed', 'failed', 'error', 'skipped') if counts[o]))


# --- web server and browser ------------------------------------------------------

@pytest.fixture(scope='session')
def web_server():
    """gunicorn serving sao and a test database with every addons module
    activated and the demo data; yields .url, .database, .login, .password
    and .demo (what tools/demo.py printed)."""
    if not ON_POSTGRESQL:
        pytest.fail('web_server needs PostgreSQL: run ./elder.sh test')
    import fasteners
    uri = DATABASE_URI
    env = elderctl.tryton_env(uri)
    for name in ['DB_NAME', 'DB_CACHE', 'TRYTOND_DATABASE__PATH']:
        env.pop(name, None)
    # No database list on the login page: trytond builds it by connecting to
    # every database of the server, which waits while another test run
    # holds a lock in one (minutes while modules are activated); the tests
    # type the name, as users of a server with list = False do.
    env.update(ELDER_ACCESS_LOG='-', TRYTOND_LOGGING_LEVEL='30',
        TRYTOND_DATABASE__LIST='False')
    # Built once per run (elderctl drops test_* databases first) and copied
    # for each process, since every pytest-xdist worker gets its own server.
    template = 'test_web'
    server = hashlib.sha256(uri.encode()).hexdigest()[:8]
    password_file = ROOT / 'var' / f'{template}-{server}.password'
    demo_file = ROOT / 'var' / f'{template}-{server}.demo'
    (ROOT / 'var' / 'test-locks').mkdir(parents=True, exist_ok=True)
    with fasteners.InterProcessLock(
            str(ROOT / 'var' / 'test-locks' / f'web-{server}')):
        if not (password_file.exists()
                and elderctl.database_exists(uri, template)):
            elderctl.drop_database(uri, template)
            elderctl.write_private(password_file, elderctl.new_password() + '\n')
            demo = elderctl.create_database(uri, template,
                elderctl.addon_modules(), password_file, env)
            elderctl.write_private(demo_file, demo)
        database = f'test_web_{WORKER}'
        elderctl.drop_database(uri, database)
        elderctl.create_database_from(uri, database, template)
    port = elderctl.free_port()
    log = ROOT / 'test-output' / f'gunicorn-{WORKER}.log'  # kept for CI
    log.parent.mkdir(exist_ok=True)
    with open(log, 'w') as log_file:
        process = elderctl.start_gunicorn(database, '127.0.0.1', port, 2, env,
            stdout=log_file, stderr=log_file)
    try:
        try:
            elderctl.wait_listening('127.0.0.1', port, process)
        except Exception as error:
            pytest.fail(f'{error}\n{log.read_text()[-3000:]}', pytrace=False)
        yield types.SimpleNamespace(
            url=f'http://127.0.0.1:{port}/', database=database, login='admin',
            password=password_file.read_text().strip(),
            demo=demo_file.read_text() if demo_file.exists() else '')
    finally:
        elderctl.stop_process(process)


@pytest.fixture(scope='session')
def web_url(web_server):
    return web_server.url


@pytest.fixture(scope='session')
def browser():
    "Debian's chromium driven by playwright (never `playwright install`)."
    executable = '/usr/bin/chromium'
    if not os.path.exists(executable):
        pytest.fail(f'{executable} missing: apt-get install chromium')
    from playwright.sync_api import sync_playwright
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable,
            args=['--headless', '--no-sandbox', '--disable-gpu',
                '--disable-background-networking', '--disable-component-update',
                '--disable-sync', '--no-first-run'])
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale='zh-CN', timezone_id='Asia/Shanghai')
    page = context.new_page()
    yield page
    context.close()

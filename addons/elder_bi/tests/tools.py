# This file is part of the eldercare platform. See LICENSE.
"The analytics store of the tests: one chdb path per process (chdb allows "
"no other), a new ClickHouse database per test."
import atexit
import os
import shutil
import tempfile
import uuid

from trytond.modules.elder_bi import store as store_module

_path = {}


def fresh_store():
    "A store in a new database of this process's chdb path, set as local"
    if 'path' not in _path:
        _path['path'] = tempfile.mkdtemp(prefix='elder-bi-test-')
        atexit.register(shutil.rmtree, _path['path'], True)
    store = store_module.Store('chdb://' + _path['path'],
        database='t_' + uuid.uuid4().hex[:12])
    store_module.set_local_store(store)
    return store


def drop(store):
    store.drop_database()
    store_module.set_local_store(None)
    os.environ.pop('ELDER_BI_DSN', None)

# This file is part of the eldercare platform. See LICENSE.
"""Two quadratic costs of trytond 8.0's record reads, removed (issue 9).

Both replacements return exactly what the originals return; they are
applied only when the original's source is the one they were written for
(trytond upgrades keep their own code until this file is reviewed).

- trytond.tools.cursor_dict built each row's dict from cursor.description,
  which psycopg 3 rebuilds (a Column object per column) at every access: a
  search of 1,000 older people made ~40,000 Column objects; and it fetched
  the rows one by one (psycopg 3's arraysize is 1). The names are now taken
  once per fetched batch of 1,000 rows.
- ModelStorage.__init__ asserted, for every instance made by browse(ids),
  that the instance's id is in ids and that every id of ids is an int:
  n² checks for n records (a million for a list of 1,000). browse() makes
  the ids ints itself (list(map(int, ids))); the replacement keeps both
  checks for the other callers and skips them for the instances of
  browse().
"""
import hashlib
import inspect
import logging

logger = logging.getLogger(__name__)

# SHA-256 of the sources the replacements were written for (trytond 8.0)
CURSOR_DICT_SHA = (
    '24fe36e2f7a851da7428bdfd4465189af3613110072eefa82437a51c04b0c9bb')
BROWSE_SHA = (
    'ed05c9390d20e0be0ebaece3d4a57fe81be90dd5ab9480e1062d23cd24725879')
INIT_SHA = (
    '0c8bf12b1182dad7459d35dda92a6d25d1cf329297a961ac00ce74b0db3160b2')


def _sha(func):
    return hashlib.sha256(inspect.getsource(func).encode()).hexdigest()


def cursor_dict(cursor, size=None):
    # psycopg 3's arraysize is 1: a fetchmany() call per row otherwise
    size = max(cursor.arraysize, 1000) if size is None else size
    while True:
        rows = cursor.fetchmany(size)
        if not rows:
            break
        names = [d[0] for d in cursor.description]
        for row in rows:
            yield dict(zip(names, row))


def patch():
    import trytond.ir.model
    import trytond.ir.translation
    import trytond.model.modelsql
    import trytond.tools
    from trytond.model.modelstorage import ModelStorage
    from trytond.transaction import Transaction

    original = trytond.tools.cursor_dict
    if getattr(original, '_elder_speedup', False):
        return  # patched already
    if _sha(original) == CURSOR_DICT_SHA:
        cursor_dict._elder_speedup = True
        for module in [trytond.tools, trytond.model.modelsql,
                trytond.ir.model, trytond.ir.translation]:
            if getattr(module, 'cursor_dict', None) is original:
                module.cursor_dict = cursor_dict
    else:
        logger.warning("trytond.tools.cursor_dict changed: not replaced")

    original_browse = ModelStorage.__dict__['browse']
    if (_sha(original_browse.__func__) != BROWSE_SHA
            or _sha(ModelStorage.__init__) != INIT_SHA):
        logger.warning("ModelStorage.browse changed: not replaced")
        return
    from trytond.model.modelstorage import local_cache
    storage_init = ModelStorage.__init__

    @classmethod
    def fast_browse(cls, ids):
        '''
        Return a list of instance for the ids
        '''
        if cls.__init__ is not storage_init:
            # a model with its own __init__: trytond's browse
            return original_browse.__func__(cls, ids)
        transaction = Transaction()
        ids = list(map(int, ids))
        _local_cache = local_cache(cls, transaction)
        transaction_cache = transaction.get_cache()
        records = []
        for id_ in ids:
            # ModelStorage.__init__ less the O(n) checks of the ids
            record = cls.__new__(cls)
            record._transaction = transaction
            record._user = transaction.user
            record._context = transaction.context
            record._ids = ids
            record._transaction_cache = transaction_cache
            record._local_cache = _local_cache
            super(ModelStorage, record).__init__(id_)
            records.append(record)
        return records
    fast_browse.__func__._elder_speedup = True
    ModelStorage.browse = fast_browse

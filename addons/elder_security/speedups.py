# This file is part of the eldercare platform. See LICENSE.
"""Costs of trytond 8.0's record reads and answers, removed (issue 9).

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
- JSONProtocol.response encoded every answer longer than 1,400 bytes with
  the pure-Python encoder (json's iterencode) and streamed its tokens: a
  search of 1,000 ids became ~2,000 chunks, each one a socket write by
  gunicorn (or, with gzip, a compressor call). The answer is now encoded
  at once by json's C encoder (same bytes) and compressed at once when the
  client accepts gzip; a long answer no longer claims gzip to a client that
  did not ask for it.
"""
import gzip
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
JSON_RESPONSE_SHA = (
    '00c037d821d2a5bc179fd11e6124694b152af64f32c100448c53dadda6d9ef9e')


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


def json_response(cls, data, request):
    "trytond's JSONProtocol.response with the answer encoded at once"
    from werkzeug.exceptions import (
        BadRequest, Conflict, Forbidden, InternalServerError, Locked,
        TooManyRequests)

    from trytond.exceptions import (
        ConcurrencyException, LoginException, MissingDependenciesException,
        RateLimitException, TrytonException)
    from trytond.protocols.jsonrpc import JSONRequest, encoder
    from trytond.protocols.wrappers import Response
    try:
        parsed_data = request.parsed_data
    except BadRequest:
        parsed_data = {}
    if (isinstance(request, JSONRequest)
            and set(parsed_data.keys()) == {'id', 'method', 'params'}):
        response = {'id': parsed_data.get('id', 0)}
        if isinstance(data, TrytonException):
            response['error'] = data.args
        elif isinstance(data, Exception):
            # report exception back to server
            response['error'] = (
                str(data),
                getattr(data, '__format_traceback__', ''))
        else:
            response['result'] = data
    else:
        if isinstance(data, UserWarning):
            return Conflict(data)
        elif isinstance(data, LoginException):
            return Forbidden(data)
        elif isinstance(data, ConcurrencyException):
            return Locked(data)
        elif isinstance(data, RateLimitException):
            return TooManyRequests(data)
        elif isinstance(data, MissingDependenciesException):
            return InternalServerError(data)
        elif isinstance(data, TrytonException):
            return BadRequest(data)
        elif isinstance(data, Exception):
            return InternalServerError(data)
        response = data
    headers = {}
    # encode() is the C encoder (one shot); iterencode() is pure Python
    payload = encoder.encode(response).encode('utf-8')
    if len(payload) > 1400 and 'gzip' in request.accept_encodings:
        payload = gzip.compress(payload, compresslevel=1)
        headers['Content-Encoding'] = 'gzip'
    return Response(
        payload, content_type='application/json', headers=headers)


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

    from trytond.protocols.jsonrpc import JSONProtocol
    if _sha(JSONProtocol.response.__func__) == JSON_RESPONSE_SHA:
        json_response._elder_speedup = True
        JSONProtocol.response = classmethod(json_response)
    else:
        logger.warning("JSONProtocol.response changed: not replaced")

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

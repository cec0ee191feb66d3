# This file is part of the eldercare platform. See LICENSE.
"Helpers shared by the concepts of the module."
from sql import For

from trytond.pool import Pool
from trytond.transaction import Transaction


def lock_rows(Model, ids):
    """Lock the rows of Model (SELECT … FOR UPDATE), waiting for the
    transactions that hold them.

    Under PostgreSQL's repeatable read (trytond's isolation level), a second
    transaction that waited on a row another one changed gets a
    serialization failure instead of the lock: trytond retries the request,
    and the retry sees the committed row. Rows created by this transaction
    need no lock."""
    ids = [int(i) for i in ids if int(i) >= 0]
    if not ids:
        return
    table = Model.__table__()
    cursor = Transaction().connection.cursor()
    cursor.execute(*table.select(
            table.id, where=table.id.in_(ids), for_=For('UPDATE')))
    cursor.fetchall()


def next_number(xml_id):
    "The next number of the module's sequence xml_id"
    pool = Pool()
    Sequence = pool.get('ir.sequence')
    ModelData = pool.get('ir.model.data')
    return Sequence(ModelData.get_id('elder_community', xml_id)).get()


def refuse_duplicate(Model, domain, message, error, **values):
    """Raise error(message) when a record matches domain: called before an
    insert, so that the translated refusal comes before the database's
    unique constraint (which stays as the guard under concurrency)"""
    from trytond.i18n import gettext
    from trytond.transaction import without_check_access
    with without_check_access():
        if Model.search(domain, limit=1):
            raise error(gettext('elder_community.' + message, **values))

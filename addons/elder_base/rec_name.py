# This file is part of the eldercare platform. See LICENSE.
from sql import Column

from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction


def read_columns(model, ids, *columns):
    """{id: (values of the columns)} of the model's rows, read straight from
    its table, 1,000 ids a query: for getters that need a column or two of
    many records, where a record's attribute would load every field"""
    table = model.__table__()
    cursor = Transaction().connection.cursor()
    rows = {}
    for sub_ids in grouped_slice(list(ids), 1000):
        cursor.execute(*table.select(table.id,
                *(Column(table, c) for c in columns),
                where=reduce_ids(table.id, sub_ids)))
        rows.update((r[0], r[1:]) for r in cursor)
    return rows


class NameColumnMixin:
    """rec_name is the `name` column, read in one query for the records.

    trytond's default getter reads the field through the record, which
    loads every field of the batch (an elder list's `elder.rec_name` of 80
    orders loaded 80 whole older people). Only for a plain, untranslated
    `name` column."""
    __slots__ = ()

    @classmethod
    def get_rec_name(cls, records, name):
        names = read_columns(cls, [r.id for r in records], 'name')
        return {r.id: names[r.id][0] if r.id in names else None
            for r in records}

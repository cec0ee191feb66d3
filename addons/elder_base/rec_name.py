# This file is part of the eldercare platform. See LICENSE.
from trytond.tools import grouped_slice, reduce_ids
from trytond.transaction import Transaction


class NameColumnMixin:
    """rec_name is the `name` column, read in one query for the records.

    trytond's default getter reads the field through the record, which
    loads every field of the batch (an elder list's `elder.rec_name` of 80
    orders loaded 80 whole older people). Only for a plain, untranslated
    `name` column."""
    __slots__ = ()

    @classmethod
    def get_rec_name(cls, records, name):
        table = cls.__table__()
        cursor = Transaction().connection.cursor()
        names = {}
        for sub_ids in grouped_slice([r.id for r in records], 1000):
            cursor.execute(*table.select(table.id, table.name,
                    where=reduce_ids(table.id, sub_ids)))
            names.update(cursor)
        return {r.id: names.get(r.id) for r in records}

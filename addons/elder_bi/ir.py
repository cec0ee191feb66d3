# This file is part of the eldercare platform. See LICENSE.
from trytond.pool import PoolMeta


class Cron(metaclass=PoolMeta):
    __name__ = 'ir.cron'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.method.selection.extend([
                ('bi.report|cron_monthly', "Generate Monthly Reports"),
                ('bi.upload.record|cron_send', "Send Uploads to the Level Above"),
                ])


class ActionURL(metaclass=PoolMeta):
    __name__ = 'ir.action.url'

    @classmethod
    def read(cls, ids, fields_names):
        "Put the database name in the URLs that ask for it ({database})"
        from trytond.transaction import Transaction
        result = super().read(ids, fields_names)
        database = Transaction().database.name
        for row in result:
            if isinstance(row.get('url'), str) and '{database}' in row['url']:
                row['url'] = row['url'].replace('{database}', database)
        return result

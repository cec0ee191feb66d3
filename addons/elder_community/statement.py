# This file is part of the eldercare platform. See LICENSE.
"""Time-bank statement of a volunteer (志愿服务时间银行对账单): the account's
entries with the running balance and the totals earned, transferred and
redeemed. Read with the user's access rights (record rules apply)."""
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import check_access


class Statement(Report):
    "Time-bank statement"
    __name__ = 'volunteer.statement'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['statements'] = cls.statements([r.id for r in records])
        return context

    @classmethod
    def statements(cls, ids):
        pool = Pool()
        Volunteer = pool.get('volunteer.volunteer')
        Entry = pool.get('timebank.entry')
        with check_access():
            volunteers = Volunteer.read(ids, [
                    'code', 'name', 'region.rec_name', 'balance',
                    'hours_earned', 'hours_transferred', 'hours_redeemed',
                    'account'])
            kinds = dict(Entry.fields_get(['kind'])['kind']['selection'])
            result = []
            for row in volunteers:
                entries = []
                if row['account']:
                    for entry in Entry.search_read([
                                ('account', '=', row['account']),
                                ], order=[('date', 'ASC'), ('id', 'ASC')],
                            fields_names=['date', 'kind', 'hours',
                                'balance', 'note', 'counterpart.rec_name',
                                'origin.rec_name']):
                        counterpart = entry.get('counterpart.') or {}
                        origin = entry.get('origin.') or {}
                        entries.append({
                                'date': entry['date'].strftime(
                                    '%Y-%m-%d %H:%M'),
                                'kind': kinds.get(entry['kind']),
                                'hours': '%+.1f' % entry['hours'],
                                'balance': '%.1f' % entry['balance'],
                                'detail': ' '.join(filter(None, [
                                            origin.get('rec_name'),
                                            counterpart.get('rec_name'),
                                            entry['note']])),
                                })
                region = row.get('region.') or {}
                result.append({
                        'code': row['code'] or '',
                        'name': row['name'],
                        'region': region.get('rec_name', ''),
                        'earned': '%.1f' % row['hours_earned'],
                        'transferred': '%.1f' % row['hours_transferred'],
                        'redeemed': '%.1f' % row['hours_redeemed'],
                        'balance': '%.1f' % row['balance'],
                        'entries': entries,
                        })
        return result

# This file is part of the eldercare platform. See LICENSE.
"""Printable work sheet of a service order (服务工单).

Report.execute checks that the user may read the orders (model access and
record rules: a provider prints only its own orders). The values printed
are read again with access checks so that the personal data come out
masked like in the client: the older person's phone is masked and the ID
number is never printed."""
from trytond.modules.elder_security.masking import mask_value
from trytond.pool import Pool
from trytond.report import Report
from trytond.transaction import check_access


class OrderSheet(Report):
    "Work sheet of a service order"
    __name__ = 'service.order.sheet'

    @classmethod
    def get_context(cls, records, header, data):
        context = super().get_context(records, header, data)
        context['sheets'] = cls.sheets([r.id for r in records])
        return context

    @classmethod
    def sheets(cls, ids):
        "Return the values to print of the orders, read with access checks"
        pool = Pool()
        Order = pool.get('service.order')
        Step = pool.get('service.order.step')
        Anomaly = pool.get('service.order.anomaly')
        names = [
            'number', 'requested_date', 'time_from', 'time_to',
            'elder.rec_name', 'elder.phone', 'item.rec_name',
            'provider.rec_name', 'practitioner.rec_name', 'checkin_time',
            'checkout_time', 'duration', 'rating', 'rating_comment',
            'flagged', 'state', 'steps', 'anomalies']
        with check_access():
            orders = {r['id']: r for r in Order.read(ids, names)}
            states = dict(Order.fields_get(['state'])['state']['selection'])
            kinds = dict(
                Anomaly.fields_get(['kind'])['kind']['selection'])
            steps = {r['id']: r for r in Step.read(
                    [i for o in orders.values() for i in o['steps']],
                    ['name', 'done', 'required'])}
            anomalies = {r['id']: r for r in Anomaly.read(
                    [i for o in orders.values() for i in o['anomalies']],
                    ['kind', 'detail', 'date', 'reviewed'])}

        def name(row, field):
            value = row.get(field + '.')
            return value['rec_name'] if value else ''

        result = []
        for id_ in ids:
            row = orders[id_]
            elder = row.get('elder.') or {}
            result.append({
                    'number': row['number'] or '',
                    'window': _window(
                        row['requested_date'], row['time_from'],
                        row['time_to']),
                    'elder': elder.get('rec_name') or '',
                    # masked by the read already; mask again in case a
                    # caller reads without checks (mask_value is idempotent)
                    'elder_phone': mask_value('phone', elder.get('phone'))
                    or '',
                    'item': name(row, 'item'),
                    'provider': name(row, 'provider'),
                    'practitioner': name(row, 'practitioner'),
                    'checkin_time': _stamp(row['checkin_time']),
                    'checkout_time': _stamp(row['checkout_time']),
                    'duration': '' if row['duration'] is None
                    else row['duration'],
                    'rating': row['rating'] or '',
                    'rating_comment': row['rating_comment'] or '',
                    'flagged': row['flagged'],
                    'state': states.get(row['state'], row['state']),
                    'steps': [steps[i] for i in row['steps']],
                    'anomalies': [
                        dict(anomalies[i], kind=kinds.get(
                                anomalies[i]['kind'], anomalies[i]['kind']))
                        for i in row['anomalies']],
                    })
        return result


def _stamp(value):
    return value.strftime('%Y-%m-%d %H:%M') if value else ''


def _window(date, time_from, time_to):
    "2026-11-25 09:00-10:00"
    times = '-'.join(t.strftime('%H:%M') for t in (time_from, time_to) if t)
    return ' '.join(filter(None, [date.isoformat() if date else '', times]))

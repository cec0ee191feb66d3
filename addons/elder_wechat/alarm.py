# This file is part of the eldercare platform. See LICENSE.
"""Family acknowledgements of device alarms: a bound family member says
they have seen the alarm. The hotline sees it on the alarm (notes and the
acknowledgements); handling and closing the alarm stay with the call
center's workflow (elder_device)."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelSQL, ModelView, Unique, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access


class Acknowledgement(ModelSQL, ModelView):
    "Family Acknowledgement of an Alarm"
    __name__ = 'wechat.alarm.ack'
    _sensitivity = {'web_user': 'personal', 'name': 'personal'}
    alarm = fields.Many2One('device.alarm', "Alarm", required=True,
        readonly=True, ondelete='CASCADE')
    web_user = fields.Many2One('web.user', "Web User", required=True,
        readonly=True, ondelete='CASCADE')
    name = fields.Char("Family Member", readonly=True)
    time = fields.Timestamp("Time", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('alarm_user_uniq', Unique(t, t.alarm, t.web_user),
                'elder_wechat.msg_alarm_ack_unique'),
            ]

    @classmethod
    def acknowledge(cls, alarm, web_user):
        pool = Pool()
        Alarm = pool.get('device.alarm')
        Binding = pool.get('wechat.binding')
        with without_check_access():
            if cls.search([('alarm', '=', alarm.id),
                        ('web_user', '=', web_user.id)], limit=1):
                return
            bindings = Binding.search([('web_user', '=', web_user.id),
                    ('elder', '=', alarm.elder.id),
                    ('state', '=', 'active')], limit=1)
            name = bindings[0].name if bindings else web_user.rec_name
            now = dt.datetime.utcnow().replace(microsecond=0)
            cls.create([{'alarm': alarm.id, 'web_user': web_user.id,
                        'name': name, 'time': now}])
            note = gettext('elder_wechat.msg_alarm_family_ack', name=name,
                time=(now + dt.timedelta(hours=8)).strftime(
                    '%Y-%m-%d %H:%M'))
            Alarm.write([alarm], {'notes': '\n'.join(
                        filter(None, [alarm.notes, note]))})


class Alarm(metaclass=PoolMeta):
    __name__ = 'device.alarm'
    family_acks = fields.One2Many('wechat.alarm.ack', 'alarm',
        "Family Acknowledgements", readonly=True)

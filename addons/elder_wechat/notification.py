# This file is part of the eldercare platform. See LICENSE.
"""Notifications to bound family members and their delivery log.

An event (device alarm, service started/finished, bill, assessment result,
binding confirmed) creates one wechat.notification per active binding of
the older person. Delivery goes through wechatpy: a subscribe message of
the mini program (the user accepted the template with
wx.requestSubscribeMessage) or a template message of the official account.
Transient failures (WeChat's -1 system busy, 45009 limits, network errors)
are retried with a doubling delay; after the configured attempts, or at
once on a permanent refusal (43101 the user did not accept, 40003 unknown
open id, no template), the notice falls back to an SMS to the family
member's phone through the SMS gateway. Every attempt is logged
(wechat.notification.attempt). The notifications are also the family's
inbox (``GET notices`` of the API)."""
import datetime as dt
import json
import logging

import requests
from wechatpy.exceptions import WeChatClientException

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

from .account import EVENTS, registered

logger = logging.getLogger(__name__)

STATES = [
    ('pending', "Pending"),
    ('sent', "Sent (WeChat)"),
    ('sms', "Sent (SMS)"),
    ('failed', "Failed"),
    ]
# WeChat refusals that a retry does not change
PERMANENT = {40003, 40037, 43101, 47003, 41030, 43004, 40036}
# Alarms every bound family member hears of; the others only for older
# people living alone
ALARMS_ALWAYS = {'sos', 'fall', 'smoke', 'gas'}
ALARMS_ALONE = {'offline', 'inactivity'}


class Notification(ModelSQL, ModelView):
    "Family Notification (家属通知)"
    __name__ = 'wechat.notification'
    _sensitivity = {
        'web_user': 'personal', 'elder': 'personal', 'title': 'personal',
        'body': 'personal', 'values': 'personal', 'identity': 'personal',
        'binding': 'personal'}
    binding = fields.Many2One('wechat.binding', "Binding", readonly=True,
        ondelete='CASCADE')
    web_user = fields.Many2One('web.user', "Web User", required=True,
        readonly=True, ondelete='CASCADE')
    elder = fields.Many2One('elder.elder', "Older Person", required=True,
        readonly=True, ondelete='CASCADE')
    identity = fields.Many2One('wechat.identity', "WeChat Identity",
        readonly=True, ondelete='SET NULL')
    event = fields.Selection(EVENTS, "Event", required=True, readonly=True)
    origin = fields.Reference("Origin", selection='get_origins',
        readonly=True)
    title = fields.Char("Title", readonly=True)
    body = fields.Text("Text", readonly=True)
    values = fields.Text("Values", readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    attempts = fields.Integer("WeChat Attempts", readonly=True)
    next_attempt = fields.Timestamp("Next Attempt", readonly=True)
    last_error = fields.Char("Last Error", readonly=True)
    sent_at = fields.Timestamp("Sent At", readonly=True)
    read_at = fields.Timestamp("Read At", readonly=True)
    attempt_log = fields.One2Many('wechat.notification.attempt',
        'notification', "Attempts", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.state, Index.Equality(cardinality='low')),
                    (t.next_attempt, Index.Range())),
                Index(t, (t.web_user, Index.Range()), (t.id, Index.Range())),
                })
        cls._order = [('id', 'DESC')]

    @staticmethod
    def default_state():
        return 'pending'

    @staticmethod
    def default_attempts():
        return 0

    @classmethod
    def get_origins(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        models = [m for m in ['device.alarm', 'service.order',
                'wechat.binding', 'settlement.line', 'elder.assessment']
            if registered(pool, m)]
        return [(None, '')] + [(m, IrModel.get_name(m)) for m in models]

    # --- creation ------------------------------------------------------------

    @classmethod
    def notify_elder(cls, elder, event, origin, values):
        """Create the notifications of an event to every family member
        bound to the older person and queue their delivery"""
        Binding = Pool().get('wechat.binding')
        with without_check_access():
            bindings = Binding.search([
                    ('elder', '=', elder.id), ('state', '=', 'active')])
            return cls._create(bindings, event, origin, values)

    @classmethod
    def for_binding(cls, binding, event):
        values = {'elder': binding.elder.name, 'kind': gettext(
                'elder_wechat.msg_notice_binding_kind'),
            'time': dt.datetime.now().strftime('%Y-%m-%d %H:%M')}
        with without_check_access():
            return cls._create([binding], 'binding', binding, values)

    @classmethod
    def _create(cls, bindings, event, origin, values):
        Identity = Pool().get('wechat.identity')
        title, body = cls.texts(event, values)
        vlist = []
        for binding in bindings:
            identities = Identity.of_user(binding.web_user)
            vlist.append({
                    'binding': binding.id,
                    'web_user': binding.web_user.id,
                    'elder': binding.elder.id,
                    'identity': identities[0].id if identities else None,
                    'event': event,
                    'origin': str(origin) if origin else None,
                    'title': title,
                    'body': body,
                    'values': json.dumps(values, ensure_ascii=False,
                        default=str),
                    'next_attempt': dt.datetime.now(),
                    })
        notifications = cls.create(vlist) if vlist else []
        if notifications:
            cls.__queue__.deliver(notifications)
        return notifications

    @classmethod
    def texts(cls, event, values):
        "(title, body) of the event in the family's language"
        title = gettext('elder_wechat.msg_notice_%s_title' % event, **values)
        body = gettext('elder_wechat.msg_notice_%s_body' % event, **values)
        return title, body

    # --- delivery ---------------------------------------------------------

    @classmethod
    def send_pending(cls):
        "Cron: deliver the notifications due"
        with without_check_access():
            notifications = cls.search([
                    ('state', '=', 'pending'),
                    ('next_attempt', '<=', dt.datetime.now()),
                    ], order=[('id', 'ASC')], limit=500)
            cls.deliver(notifications)

    @classmethod
    def deliver(cls, notifications):
        Configuration = Pool().get('wechat.configuration')
        config = Configuration(1)
        for notification in notifications:
            notification = cls(notification.id)
            if notification.state != 'pending':
                continue  # a replayed task
            notification._deliver(config)

    def _deliver(self, config):
        Attempt = Pool().get('wechat.notification.attempt')
        template = None
        if self.identity:
            template = self.identity.account.template_for(self.event)
        if not self.identity or not template:
            self._fallback(config, gettext(
                    'elder_wechat.msg_notice_no_wechat'))
            return
        account = self.identity.account
        data = template.render(json.loads(self.values or '{}'))
        errcode, error = None, None
        try:
            client = account.client()
            if account.kind == 'mini_program':
                result = client.wxa.send_subscribe_message(
                    self.identity.openid, template.template_id, data,
                    page=template.page)
            else:
                result = client.message.send_template(
                    self.identity.openid, template.template_id, data,
                    url=template.page)
        except WeChatClientException as e:
            errcode, error = e.errcode, '%s %s' % (e.errcode, e.errmsg)
        except requests.RequestException as e:
            error = str(e)[:200]
        now = dt.datetime.now().replace(microsecond=0)
        attempts = self.attempts + 1
        if error is None:
            Attempt.create([{'notification': self.id, 'channel': 'wechat',
                        'result': 'ok', 'detail': str(result.get('msgid'))}])
            self.write([self], {'state': 'sent', 'sent_at': now,
                    'attempts': attempts, 'last_error': None})
            return
        Attempt.create([{'notification': self.id, 'channel': 'wechat',
                    'result': 'error', 'errcode': errcode,
                    'detail': error[:200]}])
        self.write([self], {'attempts': attempts, 'last_error': error[:200]})
        if errcode in PERMANENT or attempts >= config.notice_attempts:
            self._fallback(config, error)
        else:
            delay = (config.notice_retry or 0) * 2 ** (attempts - 1)
            self.write([self], {
                    'next_attempt': now + dt.timedelta(minutes=delay)})

    def _fallback(self, config, reason):
        "Send the notice by SMS to the family member's phone"
        pool = Pool()
        Message = pool.get('wechat.sms.message')
        Attempt = pool.get('wechat.notification.attempt')
        phone = self.binding.phone if self.binding else None
        now = dt.datetime.now().replace(microsecond=0)
        if not phone:
            Attempt.create([{'notification': self.id, 'channel': 'sms',
                        'result': 'error', 'detail': 'no phone'}])
            self.write([self], {'state': 'failed',
                    'last_error': (reason or '')[:200]})
            return
        message = Message.send(phone, self.body or self.title, 'notice')
        ok = message.state == 'sent'
        Attempt.create([{'notification': self.id, 'channel': 'sms',
                    'result': 'ok' if ok else 'error',
                    'detail': message.provider_id or message.error}])
        self.write([self], {'state': 'sms' if ok else 'failed',
                'sent_at': now if ok else None})


class Attempt(ModelSQL, ModelView):
    "Notification Delivery Attempt"
    __name__ = 'wechat.notification.attempt'
    notification = fields.Many2One('wechat.notification', "Notification",
        required=True, ondelete='CASCADE', readonly=True)
    time = fields.Timestamp("Time", readonly=True)
    channel = fields.Selection([
            ('wechat', "WeChat"),
            ('sms', "SMS"),
            ], "Channel", readonly=True)
    result = fields.Selection([
            ('ok', "Delivered"),
            ('error', "Error"),
            ], "Result", readonly=True)
    errcode = fields.Integer("WeChat Error Code", readonly=True)
    detail = fields.Char("Detail", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('notification')
        cls._order = [('id', 'ASC')]

    @staticmethod
    def default_time():
        return dt.datetime.now().replace(microsecond=0)


# --- the events ---------------------------------------------------------------

def _local(value):
    "A naive UTC timestamp (device module) shown in China time"
    if not value:
        return ''
    return (value + dt.timedelta(hours=8)).strftime('%Y-%m-%d %H:%M')


class Alarm(metaclass=PoolMeta):
    __name__ = 'device.alarm'

    @classmethod
    def notify_agents(cls, alarms):
        super().notify_agents(alarms)
        cls.notify_families(alarms)

    @classmethod
    @without_check_access
    def notify_families(cls, alarms):
        Notification = Pool().get('wechat.notification')
        kinds = dict(cls.fields_get(['kind'])['kind']['selection'])
        for alarm in alarms:
            elder = alarm.elder
            if not elder:
                continue
            if alarm.kind not in ALARMS_ALWAYS and not (
                    alarm.kind in ALARMS_ALONE
                    and elder.living_situation == 'alone'):
                continue
            Notification.notify_elder(elder, 'alarm', alarm, {
                    'elder': elder.name,
                    'kind': kinds.get(alarm.kind, alarm.kind),
                    'time': _local(alarm.first_occurrence),
                    'note': alarm.description or '',
                    })


class Order(metaclass=PoolMeta):
    __name__ = 'service.order'

    @classmethod
    def _in_service(cls, orders):
        super()._in_service(orders)
        cls._notify_families(orders, 'service_started')

    @classmethod
    def _completed(cls, orders):
        super()._completed(orders)
        cls._notify_families(orders, 'service_finished')

    @classmethod
    @without_check_access
    def _notify_families(cls, orders, event):
        Notification = Pool().get('wechat.notification')
        for order in orders:
            order = cls(order.id)
            when = (order.checkout_time if event == 'service_finished'
                else order.checkin_time) or dt.datetime.now()
            Notification.notify_elder(order.elder, event, order, {
                    'elder': order.elder.name,
                    'item': order.item.name,
                    'kind': order.item.name,
                    'time': when.strftime('%Y-%m-%d %H:%M'),
                    'state': order.state_string,
                    'note': order.number or '',
                    })


class Assessment(metaclass=PoolMeta):
    __name__ = 'elder.assessment'

    @classmethod
    def publish(cls, assessments):
        super().publish(assessments)
        Notification = Pool().get('wechat.notification')
        names = cls.fields_get(['level', 'state'])
        levels = dict(names['level']['selection'])
        states = dict(names['state']['selection'])
        with without_check_access():
            for assessment in cls.browse([a.id for a in assessments]):
                Notification.notify_elder(assessment.elder, 'assessment',
                    assessment, {
                        'elder': assessment.elder.name,
                        'kind': levels.get(assessment.level) or '',
                        'state': states.get(assessment.state) or '',
                        'time': str(assessment.published_date or ''),
                        'note': str(assessment.effective_on or ''),
                        })


class SettlementLine(metaclass=PoolMeta):
    __name__ = 'settlement.line'

    @classmethod
    def collect(cls, until):
        lines = super().collect(until)
        Notification = Pool().get('wechat.notification')
        with without_check_access():
            for line in cls.browse([l.id for l in lines]):
                # Home-service orders only: meals, beds and renovations
                # settle lines without an order, their self-paid part is
                # paid where the service is given.
                if (line.order and line.item
                        and line.self_pay_amount
                        and line.self_pay_amount > 0):
                    Notification.notify_elder(line.elder, 'bill', line, {
                            'elder': line.elder.name,
                            'item': line.item.name,
                            'kind': line.item.name,
                            'amount': '%s元' % line.self_pay_amount,
                            'time': str(line.service_date),
                            'note': line.order.number or '',
                            })
        return lines

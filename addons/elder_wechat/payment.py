# This file is part of the eldercare platform. See LICENSE.
"""WeChat Pay v3 for the self-paid part of services (wechatpayv3).

``wechat.pay.merchant`` holds a merchant's keys (the API private key and
the APIv3 key encrypted at rest, the platform public key and its id: the
"微信支付公钥" mode, no platform certificate download). wechatpayv3 has no
way to set its gateway, so ``PayGateway`` wraps it and sets the private
attribute (``_core._gate_way``) to the merchant's gateway URL (WeChat's in
production, the stand-in in tests); the wrapper is the only place that
touches wechatpayv3's internals.

``wechat.payment`` is one JSAPI payment of a bill (a settlement line with a
self-paid amount, elder_settlement). The payment notification
(``POST /<db>/wechat/pay/notify``) is verified (platform signature over
timestamp, nonce and body, timestamp within five minutes) and decrypted
(AEAD_AES_256_GCM under the APIv3 key) by wechatpayv3, then checked against
the payment (merchant, app, amount); a tampered or unverifiable
notification is refused and logged, a replay is answered SUCCESS without
changing anything. Refunds go through the refund API and its notification.
Reconciliation queries WeChat for every payment not reconciled and compares
state and amount with the payment and the bill."""
import datetime as dt
import json
import secrets
import time
from decimal import Decimal

from wechatpayv3 import WeChatPay, WeChatPayType

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, Workflow, fields)
from trytond.model.exceptions import ValidationError
from trytond.pool import Pool
from trytond.transaction import without_check_access

from .account import SecretMixin, registered

GATEWAY = 'https://api.mch.weixin.qq.com'
NOTIFY_WINDOW = 300
STATES = [
    ('paying', "Waiting for Payment"),
    ('paid', "Paid"),
    ('refunded', "Refunded"),
    ('closed', "Closed"),
    ]


class PayError(ValidationError):
    pass


def cents(amount):
    return int((Decimal(amount) * 100).quantize(Decimal(1)))


class Merchant(SecretMixin, DeactivableMixin, ModelSQL, ModelView):
    "WeChat Pay Merchant"
    __name__ = 'wechat.pay.merchant'
    _secrets = ('private_key', 'apiv3_key')
    _sensitivity = {
        'private_key': 'sensitive', 'private_key_enc': 'sensitive',
        'apiv3_key': 'sensitive', 'apiv3_key_enc': 'sensitive',
        'platform_public_key': 'public', 'platform_key_id': 'internal'}
    name = fields.Char("Name", required=True)
    mchid = fields.Char("Merchant ID", required=True, strip=True)
    cert_serial_no = fields.Char("API Certificate Serial", required=True,
        strip=True)
    private_key = fields.Function(fields.Text(
            "API Private Key", help="PEM. Write only: stored encrypted."),
        'get_secret_mask', setter='set_secret')
    private_key_enc = fields.Text("API Private Key (Encrypted)",
        readonly=True)
    apiv3_key = fields.Function(fields.Char(
            "APIv3 Key", help="32 characters. Write only: stored encrypted."),
        'get_secret_mask', setter='set_secret')
    apiv3_key_enc = fields.Char("APIv3 Key (Encrypted)", readonly=True)
    platform_public_key = fields.Text("Platform Public Key", required=True,
        help="WeChat Pay's public key (PEM) that signs answers and "
        "notifications.")
    platform_key_id = fields.Char("Platform Public Key ID", required=True,
        strip=True)
    gateway = fields.Char("Gateway", required=True,
        help="https://api.mch.weixin.qq.com; a local stand-in in tests.")
    notify_url = fields.Char("Notification URL", required=True,
        help="https://<host>/<database>/wechat/pay/notify")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('mchid_uniq', Unique(t, t.mchid),
                'elder_wechat.msg_merchant_unique'),
            ]

    @staticmethod
    def default_gateway():
        return GATEWAY

    def gateway_for(self, account):
        return PayGateway(self, account)


class PayGateway:
    "wechatpayv3 for one merchant and one app, pointed at its gateway"

    def __init__(self, merchant, account):
        kind = (WeChatPayType.MINIPROG if account.kind == 'mini_program'
            else WeChatPayType.JSAPI)
        self.merchant = merchant
        self.account = account
        self.pay = WeChatPay(
            wechatpay_type=kind,
            mchid=merchant.mchid,
            private_key=merchant.reveal('private_key'),
            cert_serial_no=merchant.cert_serial_no,
            appid=account.appid,
            apiv3_key=merchant.reveal('apiv3_key'),
            notify_url=merchant.notify_url,
            public_key=merchant.platform_public_key,
            public_key_id=merchant.platform_key_id,
            timeout=(5, 15))
        # wechatpayv3 keeps its gateway in a private attribute
        self.pay._core._gate_way = merchant.gateway.rstrip('/')

    @staticmethod
    def _answer(code, message):
        try:
            data = json.loads(message) if message else {}
        except (TypeError, ValueError):
            data = {'message': str(message)[:200]}
        return code, data

    def jsapi(self, payment, openid):
        code, message = self.pay.pay(
            description=payment.description[:127],
            out_trade_no=payment.number,
            amount={'total': cents(payment.amount), 'currency': 'CNY'},
            payer={'openid': openid},
            attach=str(payment.id))
        return self._answer(code, message)

    def pay_params(self, prepay_id):
        "The parameters of wx.requestPayment / getBrandWCPayRequest"
        timestamp = str(int(time.time()))
        nonce = secrets.token_hex(16)
        package = 'prepay_id=%s' % prepay_id
        sign = self.pay.sign([self.account.appid, timestamp, nonce, package])
        return {'appId': self.account.appid, 'timeStamp': timestamp,
            'nonceStr': nonce, 'package': package, 'signType': 'RSA',
            'paySign': sign}

    def query(self, payment):
        return self._answer(*self.pay.query(out_trade_no=payment.number))

    def refund(self, refund):
        payment = refund.payment
        return self._answer(*self.pay.refund(
                out_refund_no=refund.number,
                amount={'refund': cents(refund.amount),
                    'total': cents(payment.amount), 'currency': 'CNY'},
                out_trade_no=payment.number,
                reason=refund.reason or None))

    def callback(self, headers, body):
        """The decrypted notification, or None when its signature, its
        timestamp or its encryption does not verify"""
        headers = {k.title(): v for k, v in headers.items()}
        try:
            timestamp = int(headers.get('Wechatpay-Timestamp', ''))
        except ValueError:
            return None
        if abs(time.time() - timestamp) > NOTIFY_WINDOW:
            return None
        try:
            return self.pay.callback(headers, body)
        except Exception:  # noqa: BLE001 wechatpayv3 raises bare Exception
            return None


class Payment(Workflow, ModelSQL, ModelView):
    "WeChat Payment (微信支付)"
    __name__ = 'wechat.payment'
    _sensitivity = {
        'web_user': 'personal', 'elder': 'personal', 'identity': 'personal',
        'amount': 'sensitive', 'payer_total': 'sensitive',
        'refunded_amount': 'sensitive', 'transaction_id': 'personal',
        'description': 'personal'}
    number = fields.Char("Out Trade No", required=True, readonly=True)
    merchant = fields.Many2One('wechat.pay.merchant', "Merchant",
        required=True, readonly=True, ondelete='RESTRICT')
    account = fields.Many2One('wechat.account', "Application",
        required=True, readonly=True, ondelete='RESTRICT')
    identity = fields.Many2One('wechat.identity', "Payer", readonly=True,
        ondelete='SET NULL')
    web_user = fields.Many2One('web.user', "Web User", readonly=True,
        ondelete='SET NULL')
    elder = fields.Many2One('elder.elder', "Older Person", required=True,
        readonly=True, ondelete='RESTRICT')
    order = fields.Many2One('service.order', "Service Order", readonly=True,
        ondelete='RESTRICT')
    bill = fields.Reference("Bill", selection='get_bills', readonly=True)
    description = fields.Char("Description", readonly=True)
    amount = fields.Numeric("Amount", digits=(16, 2), required=True,
        readonly=True)
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    prepay_id = fields.Char("Prepay ID", readonly=True)
    transaction_id = fields.Char("Transaction ID", readonly=True)
    paid_at = fields.Timestamp("Paid At", readonly=True)
    payer_total = fields.Numeric("Paid Amount", digits=(16, 2),
        readonly=True)
    refunded_amount = fields.Numeric("Refunded", digits=(16, 2),
        readonly=True)
    reconciled = fields.Boolean("Reconciled", readonly=True)
    reconcile_note = fields.Char("Reconciliation", readonly=True)
    refunds = fields.One2Many('wechat.refund', 'payment', "Refunds",
        readonly=True)
    events = fields.One2Many('wechat.payment.event', 'payment', "Events",
        readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('number_uniq', Unique(t, t.number),
                'elder_wechat.msg_payment_number_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.bill, Index.Equality()),
                (t.state, Index.Equality())))
        cls._order = [('id', 'DESC')]
        cls._transitions |= {
            ('paying', 'paid'), ('paying', 'closed'), ('paid', 'refunded'),
            }
        cls._buttons.update({
                'reconcile': {'depends': ['state']},
                })

    @staticmethod
    def default_state():
        return 'paying'

    @staticmethod
    def default_reconciled():
        return False

    @staticmethod
    def default_refunded_amount():
        return Decimal(0)

    @classmethod
    def get_bills(cls):
        pool = Pool()
        IrModel = pool.get('ir.model')
        models = [m for m in ['settlement.line']
            if registered(pool, m)]
        return [(None, '')] + [(m, IrModel.get_name(m)) for m in models]

    def get_rec_name(self, name):
        return self.number

    @classmethod
    def new_number(cls):
        return 'EP%s%s' % (dt.datetime.now().strftime('%Y%m%d%H%M%S'),
            secrets.token_hex(5).upper())

    # --- paying a bill -----------------------------------------------------

    @classmethod
    def for_bill(cls, line, identity, web_user):
        """The payment of a bill (settlement.line) by the WeChat identity:
        the one waiting for payment when there is one (same out_trade_no,
        the same prepay id), else a new one; (payment, pay parameters)"""
        pool = Pool()
        Configuration = pool.get('wechat.configuration')
        merchant = Configuration(1).merchant
        if not merchant:
            raise PayError(gettext('elder_wechat.msg_pay_not_configured'))
        cls.lock()
        existing = cls.search([('bill', '=', str(line)),
                ('state', 'in', ['paying', 'paid'])])
        if any(p.state == 'paid' for p in existing):
            raise PayError(gettext('elder_wechat.msg_bill_paid'))
        payment = None
        for candidate in existing:
            if (candidate.identity == identity
                    and candidate.amount == line.self_pay_amount):
                payment = candidate
            else:
                cls.write([candidate], {'state': 'closed'})
        if payment is None:
            payment, = cls.create([{
                        'number': cls.new_number(),
                        'merchant': merchant.id,
                        'account': identity.account.id,
                        'identity': identity.id,
                        'web_user': web_user.id,
                        'elder': line.elder.id,
                        'order': line.order.id,
                        'bill': str(line),
                        'description': gettext(
                            'elder_wechat.msg_pay_description',
                            item=line.item.name, number=line.order.number),
                        'amount': line.self_pay_amount,
                        }])
        gateway = merchant.gateway_for(payment.account)
        if not payment.prepay_id:
            code, data = gateway.jsapi(payment, identity.openid)
            if code != 200 or not data.get('prepay_id'):
                raise PayError(gettext('elder_wechat.msg_pay_refused',
                        code=data.get('code', code),
                        message=data.get('message', '')))
            cls.write([payment], {'prepay_id': data['prepay_id']})
        return payment, gateway.pay_params(payment.prepay_id)

    # --- notifications -------------------------------------------------------

    @classmethod
    def handle_notification(cls, headers, body):
        """Verify, decrypt and apply a payment or refund notification;
        return (HTTP status, answer)"""
        pool = Pool()
        Merchant = pool.get('wechat.pay.merchant')
        Event = pool.get('wechat.payment.event')
        Account = pool.get('wechat.account')
        data = None
        for merchant in Merchant.search([]):
            # The notification names its key; a merchant with another key
            # cannot verify it.
            serial = {k.title(): v for k, v in headers.items()}.get(
                'Wechatpay-Serial')
            if serial != merchant.platform_key_id:
                continue
            accounts = Account.search([], limit=1)
            if not accounts:
                break
            data = merchant.gateway_for(accounts[0]).callback(headers, body)
            if data:
                break
        if not data:
            Event.log(None, 'rejected', 'signature or decryption')
            return 401, {'code': 'FAIL', 'message': gettext(
                    'elder_wechat.msg_pay_notify_rejected')}
        resource = data.get('resource') or {}
        event_id = data.get('id')
        if data.get('event_type', '').startswith('REFUND.'):
            return cls._refund_notified(merchant, event_id, resource)
        payments = cls.search(
            [('number', '=', resource.get('out_trade_no'))], limit=1)
        if not payments:
            Event.log(None, 'rejected', 'unknown out_trade_no', event_id)
            return 404, {'code': 'FAIL', 'message': 'unknown out_trade_no'}
        payment, = payments
        cls.lock([payment])
        payment = cls(payment.id)
        amount = (resource.get('amount') or {}).get('total')
        if (resource.get('mchid') != payment.merchant.mchid
                or payment.merchant != merchant
                or resource.get('appid') != payment.account.appid
                or amount != cents(payment.amount)):
            Event.log(payment, 'rejected', 'mismatch', event_id, resource)
            return 400, {'code': 'FAIL', 'message': gettext(
                    'elder_wechat.msg_pay_notify_mismatch')}
        if resource.get('trade_state') != 'SUCCESS':
            Event.log(payment, 'ignored', resource.get('trade_state'),
                event_id, resource)
            return 200, {'code': 'SUCCESS'}
        if payment.state in {'paid', 'refunded'}:
            replay = payment.transaction_id == resource.get('transaction_id')
            Event.log(payment, 'replay' if replay else 'rejected',
                'already paid', event_id, resource)
            if replay:
                return 200, {'code': 'SUCCESS'}
            return 409, {'code': 'FAIL', 'message': 'other transaction'}
        cls.mark_paid(payment, resource)
        Event.log(payment, 'applied', 'paid', event_id, resource)
        return 200, {'code': 'SUCCESS'}

    @classmethod
    def mark_paid(cls, payment, resource):
        when = resource.get('success_time')
        try:
            paid_at = dt.datetime.fromisoformat(when).astimezone(
                dt.timezone.utc).replace(tzinfo=None)
        except (TypeError, ValueError):
            paid_at = dt.datetime.utcnow()
        total = (resource.get('amount') or {}).get(
            'payer_total', (resource.get('amount') or {}).get('total'))
        cls.write([payment], {
                'state': 'paid',
                'transaction_id': resource.get('transaction_id'),
                'paid_at': paid_at.replace(microsecond=0),
                'payer_total': Decimal(total or 0) / 100,
                })

    @classmethod
    def _refund_notified(cls, merchant, event_id, resource):
        pool = Pool()
        Refund = pool.get('wechat.refund')
        Event = pool.get('wechat.payment.event')
        refunds = Refund.search(
            [('number', '=', resource.get('out_refund_no'))], limit=1)
        if not refunds or refunds[0].payment.merchant != merchant:
            Event.log(None, 'rejected', 'unknown refund', event_id)
            return 404, {'code': 'FAIL', 'message': 'unknown out_refund_no'}
        refund, = refunds
        if refund.state == 'done':
            Event.log(refund.payment, 'replay', 'refund', event_id, resource)
            return 200, {'code': 'SUCCESS'}
        if resource.get('refund_status') == 'SUCCESS':
            Refund.apply([refund], resource.get('refund_id'))
        Event.log(refund.payment, 'applied', 'refund', event_id, resource)
        return 200, {'code': 'SUCCESS'}

    # --- refunds and reconciliation --------------------------------------

    @classmethod
    def refund_payment(cls, payment, amount=None, reason=None):
        Refund = Pool().get('wechat.refund')
        if payment.state != 'paid':
            raise PayError(gettext('elder_wechat.msg_refund_state',
                    payment=payment.rec_name))
        amount = Decimal(amount if amount is not None else (
                payment.amount - (payment.refunded_amount or 0)))
        if amount <= 0 or amount > payment.amount - (
                payment.refunded_amount or 0):
            raise PayError(gettext('elder_wechat.msg_refund_amount',
                    payment=payment.rec_name))
        refund, = Refund.create([{
                    'payment': payment.id,
                    'number': 'ER' + cls.new_number()[2:],
                    'amount': amount, 'reason': reason}])
        gateway = payment.merchant.gateway_for(payment.account)
        code, data = gateway.refund(refund)
        if code != 200:
            raise PayError(gettext('elder_wechat.msg_pay_refused',
                    code=data.get('code', code),
                    message=data.get('message', '')))
        Refund.write([refund], {'refund_id': data.get('refund_id')})
        if data.get('status') == 'SUCCESS':
            Refund.apply([refund], data.get('refund_id'))
        return Refund(refund.id)

    @classmethod
    @ModelView.button
    def reconcile(cls, payments):
        """Compare each payment with WeChat's record (query) and with its
        bill; mark the paid ones WeChat knows (a lost notification)"""
        for payment in payments:
            gateway = payment.merchant.gateway_for(payment.account)
            code, data = gateway.query(payment)
            notes = []
            if code != 200:
                notes.append('query %s %s' % (code, data.get('code', '')))
            else:
                state = data.get('trade_state')
                total = (data.get('amount') or {}).get('total')
                if total != cents(payment.amount):
                    notes.append('amount %s != %s' % (
                            total, cents(payment.amount)))
                if state == 'SUCCESS' and payment.state == 'paying':
                    cls.mark_paid(payment, data)
                    payment = cls(payment.id)
                expected = {'SUCCESS': {'paid'}, 'REFUND': {'paid',
                        'refunded'}, 'NOTPAY': {'paying', 'closed'},
                    'CLOSED': {'closed'}}.get(state, set())
                if payment.state not in expected:
                    notes.append('state %s / %s' % (state, payment.state))
                if (state == 'SUCCESS' and payment.transaction_id
                        != data.get('transaction_id')):
                    notes.append('transaction id')
            bill = payment.bill
            if bill is not None and getattr(bill, 'self_pay_amount',
                    None) is not None and payment.state == 'paid' and (
                    bill.self_pay_amount != payment.amount):
                notes.append('bill %s != %s' % (
                        bill.self_pay_amount, payment.amount))
            cls.write([payment], {
                    'reconciled': not notes and payment.state in {
                        'paid', 'refunded', 'closed'},
                    'reconcile_note': '; '.join(notes)[:200] or 'OK'})

    @classmethod
    def cron_reconcile(cls):
        with without_check_access():
            cls.reconcile(cls.search([('reconciled', '=', False)],
                    limit=500))


class Refund(ModelSQL, ModelView):
    "WeChat Refund"
    __name__ = 'wechat.refund'
    _sensitivity = {'amount': 'sensitive', 'reason': 'personal'}
    payment = fields.Many2One('wechat.payment', "Payment", required=True,
        readonly=True, ondelete='RESTRICT')
    number = fields.Char("Out Refund No", required=True, readonly=True)
    amount = fields.Numeric("Amount", digits=(16, 2), required=True,
        readonly=True)
    reason = fields.Char("Reason", readonly=True)
    refund_id = fields.Char("Refund ID", readonly=True)
    state = fields.Selection([
            ('requested', "Requested"),
            ('done', "Refunded"),
            ], "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls.__access__.add('payment')

    @staticmethod
    def default_state():
        return 'requested'

    @classmethod
    def apply(cls, refunds, refund_id):
        Payment = Pool().get('wechat.payment')
        for refund in refunds:
            if refund.state == 'done':
                continue
            cls.write([refund], {'state': 'done', 'refund_id': refund_id})
            payment = Payment(refund.payment.id)
            total = (payment.refunded_amount or 0) + refund.amount
            values = {'refunded_amount': total}
            if total >= payment.amount:
                values['state'] = 'refunded'
            Payment.write([payment], values)


class PaymentEvent(ModelSQL, ModelView):
    "WeChat Pay Notification Log"
    __name__ = 'wechat.payment.event'
    _sensitivity = {'resource': 'sensitive'}
    payment = fields.Many2One('wechat.payment', "Payment", readonly=True,
        ondelete='CASCADE')
    time = fields.Timestamp("Received At", readonly=True)
    notification_id = fields.Char("Notification ID", readonly=True)
    result = fields.Selection([
            ('applied', "Applied"),
            ('replay', "Replay (no change)"),
            ('ignored', "Ignored"),
            ('rejected', "Rejected"),
            ], "Result", readonly=True)
    detail = fields.Char("Detail", readonly=True)
    resource = fields.Text("Resource", readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._order = [('id', 'DESC')]

    @classmethod
    def log(cls, payment, result, detail, notification_id=None,
            resource=None):
        with without_check_access():
            cls.create([{
                        'payment': payment.id if payment else None,
                        'time': dt.datetime.now().replace(microsecond=0),
                        'notification_id': notification_id,
                        'result': result, 'detail': (detail or '')[:200],
                        'resource': json.dumps(resource, ensure_ascii=False)
                        if resource else None}])

# This file is part of the eldercare platform. See LICENSE.
"""Credit events from the home services of elder_service: an upheld
complaint and a confirmed visit anomaly are deductions for the provider and
for the practitioner who served."""
from trytond.i18n import gettext
from trytond.model import ModelView, fields
from trytond.pool import Pool, PoolMeta
from trytond.pyson import Eval
from trytond.transaction import Transaction


class Complaint(metaclass=PoolMeta):
    __name__ = 'service.complaint'

    def _credit_subjects(self):
        subjects = []
        if self.order.provider:
            subjects.append(self.order.provider)
        if self.order.practitioner:
            subjects.append(self.order.practitioner)
        return subjects

    @classmethod
    def _record_credit(cls, complaints):
        pool = Pool()
        Record = pool.get('credit.record')
        for complaint in complaints:
            if not complaint.substantiated:
                continue
            for subject in complaint._credit_subjects():
                Record.record_event(subject, 'complaint_upheld',
                    origin=complaint, date=complaint.date.date(),
                    description=gettext(
                        'elder_community.msg_credit_complaint',
                        complaint=complaint.number,
                        description=complaint.description))

    @classmethod
    def resolve(cls, complaints):
        super().resolve(complaints)
        cls._record_credit(complaints)

    @classmethod
    def close(cls, complaints):
        "Substantiated may still change between resolution and closing"
        pool = Pool()
        Record = pool.get('credit.record')
        super().close(complaints)
        for complaint in complaints:
            if not complaint.substantiated:
                Record.revoke_origin(complaint, gettext(
                        'elder_community.msg_credit_not_substantiated'))
        cls._record_credit(complaints)

    @classmethod
    def process(cls, complaints):
        "A resolved complaint taken up again no longer counts until resolved"
        pool = Pool()
        Record = pool.get('credit.record')
        super().process(complaints)
        for complaint in complaints:
            Record.revoke_origin(complaint, gettext(
                    'elder_community.msg_credit_reopened'))


class OrderAnomaly(metaclass=PoolMeta):
    __name__ = 'service.order.anomaly'
    confirmed = fields.Boolean("Confirmed", readonly=True,
        help="A supervisor confirmed the anomaly as a breach (a credit "
        "deduction) rather than dismissing it.")

    @staticmethod
    def default_confirmed():
        return False


class Order(metaclass=PoolMeta):
    __name__ = 'service.order'

    @classmethod
    def __setup__(cls):
        super().__setup__()
        cls._buttons.update({
                'confirm_anomalies': {
                    'invisible': ~Eval('flagged'),
                    'depends': ['flagged'],
                    },
                })

    @classmethod
    @ModelView.button
    def confirm_anomalies(cls, orders):
        """Confirm the orders' unreviewed anomalies as breaches: each one is
        a credit deduction of the provider and the practitioner; the order
        is reviewed as by the review button"""
        pool = Pool()
        Anomaly = pool.get('service.order.anomaly')
        Record = pool.get('credit.record')
        anomalies = [a for o in orders for a in o.anomalies if not a.reviewed]
        kinds = dict(Anomaly.fields_get(['kind'])['kind']['selection'])
        Anomaly.write(anomalies, {
                'confirmed': True,
                'reviewed': True,
                'reviewed_by': Transaction().user,
                })
        for anomaly in anomalies:
            order = anomaly.order
            for subject in filter(None, [order.provider, order.practitioner]):
                Record.record_event(subject, 'anomaly_confirmed',
                    origin=anomaly, date=anomaly.date.date(),
                    description=gettext(
                        'elder_community.msg_credit_anomaly',
                        order=order.number, anomaly=kinds.get(anomaly.kind)))
        cls.review(orders)

# This file is part of the eldercare platform. See LICENSE.
"""Practitioner management (从业人员管理): qualification levels on top of
elder_base's practitioners, certificates and training records, and the
alerts of expiring certificates."""
import datetime as dt
import json

from trytond.i18n import gettext
from trytond.model import (
    DeactivableMixin, Index, ModelSQL, ModelView, Unique, fields,
    sequence_ordered)
from trytond.modules.elder_base.practitioner import KINDS, SKILL_LEVELS
from trytond.pool import Pool, PoolMeta
from trytond.transaction import Transaction, without_check_access

from .training import TRAINING_KINDS

ALERT_KINDS = [
    ('expiring', "Expiring"),
    ('expired', "Expired"),
    ]


class QualificationLevel(
        DeactivableMixin, sequence_ordered(), ModelSQL, ModelView):
    "Qualification level of practitioners"
    __name__ = 'practitioner.qualification.level'
    code = fields.Char("Code", required=True, strip=True)
    name = fields.Char("Name", required=True, translate=True)
    kind = fields.Selection([(None, "")] + KINDS, "Practitioner Kind",
        sort=False, help="Empty: the level applies to every kind.")
    min_skill_level = fields.Selection(SKILL_LEVELS, "Minimum Skill Level",
        sort=False, help="Level 1 is the highest.")
    min_training_hours = fields.Numeric(
        "Training Hours per Year", digits=(5, 1), required=True,
        domain=[('min_training_hours', '>=', 0)],
        help="Hours of passed training in the last twelve months the level "
        "requires (continuing education).")
    certificate_required = fields.Boolean("Certificate Required",
        help="A valid (not expired) certificate is required.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code),
                'elder_community.msg_level_code_unique'),
            ]

    @staticmethod
    def default_min_training_hours():
        return 0


class Practitioner(metaclass=PoolMeta):
    __name__ = 'elder.practitioner'
    qualification_level = fields.Many2One(
        'practitioner.qualification.level', "Qualification Level",
        ondelete='RESTRICT')
    training_hours_year = fields.Function(
        fields.Numeric("Training Hours (12 Months)", digits=(6, 1)),
        'get_qualification')
    qualification_ok = fields.Function(
        fields.Boolean("Meets Qualification Level"), 'get_qualification')
    qualification_gaps = fields.Function(
        fields.Text("Qualification Gaps"), 'get_qualification')
    appraisals = fields.One2Many(
        'practitioner.appraisal', 'practitioner', "Appraisals",
        readonly=True)

    def get_qualification(self, name):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        since = today - dt.timedelta(days=365)
        hours = sum((t.hours or 0) for t in self.trainings
            if t.passed and t.date and t.date >= since)
        if name == 'training_hours_year':
            return hours
        gaps = []
        level = self.qualification_level
        if level:
            if level.kind and level.kind != self.kind:
                gaps.append(gettext('elder_community.msg_gap_kind'))
            if level.min_skill_level and (not self.skill_level
                    or int(self.skill_level) > int(level.min_skill_level)):
                gaps.append(gettext('elder_community.msg_gap_skill',
                        level=level.min_skill_level))
            if hours < level.min_training_hours:
                gaps.append(gettext('elder_community.msg_gap_training',
                        hours=hours, required=level.min_training_hours))
            if level.certificate_required and (
                    self.certificate_validity in {None, 'expired'}):
                gaps.append(gettext('elder_community.msg_gap_certificate'))
        if name == 'qualification_ok':
            return bool(level) and not gaps
        return '\n'.join(gaps)


class Training(metaclass=PoolMeta):
    __name__ = 'elder.practitioner.training'
    plan = fields.Many2One(
        'practitioner.training.plan', "Training Plan", readonly=True,
        ondelete='RESTRICT')
    kind = fields.Selection([(None, "")] + TRAINING_KINDS, "Kind",
        sort=False)


class Certificate(metaclass=PoolMeta):
    __name__ = 'elder.practitioner.certificate'

    @classmethod
    def cron_alert_expiring(cls):
        """Raise an alert for every certificate that expires within the
        configured days or has expired, once per certificate and kind, and
        notify the administrators of the practitioner's provider."""
        pool = Pool()
        Alert = pool.get('practitioner.certificate.alert')
        Configuration = pool.get('community.configuration')
        Date = pool.get('ir.date')
        today = Date.today()
        days = Configuration(1).certificate_alert_days
        certificates = cls.search([
                ('expiry_date', '!=', None),
                ('expiry_date', '<=', today + dt.timedelta(days=days)),
                ('practitioner.state', '!=', 'left'),
                ])
        existing = {(a.certificate.id, a.kind) for a in Alert.search([
                    ('certificate', 'in', [c.id for c in certificates]),
                    ])}
        values = []
        for certificate in certificates:
            kind = ('expired' if certificate.expiry_date < today
                else 'expiring')
            if (certificate.id, kind) in existing:
                continue
            values.append({
                    'certificate': certificate.id,
                    'kind': kind,
                    'date': today,
                    'expiry_date': certificate.expiry_date,
                    })
        alerts = Alert.create(values)
        Alert.notify(alerts)
        return alerts


class CertificateAlert(ModelSQL, ModelView):
    "Alert of an expiring certificate"
    __name__ = 'practitioner.certificate.alert'
    certificate = fields.Many2One(
        'elder.practitioner.certificate', "Certificate", required=True,
        readonly=True, ondelete='CASCADE')
    practitioner = fields.Function(fields.Many2One(
            'elder.practitioner', "Practitioner"), 'get_certificate_field',
        searcher='search_certificate_field')
    provider = fields.Function(fields.Many2One(
            'elder.provider', "Provider"), 'get_certificate_field',
        searcher='search_certificate_field')
    kind = fields.Selection(ALERT_KINDS, "Kind", required=True, readonly=True)
    date = fields.Date("Date", required=True, readonly=True)
    expiry_date = fields.Date("Expiry Date", readonly=True)
    handled = fields.Boolean("Handled",
        help="The certificate was renewed or the practitioner reassigned.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('certificate_kind_uniq', Unique(t, t.certificate, t.kind),
                'elder_community.msg_alert_unique'),
            ]
        cls._sql_indexes.add(Index(t, (t.date, Index.Range())))
        cls._order = [('date', 'DESC'), ('id', 'DESC')]

    def get_certificate_field(self, name):
        practitioner = self.certificate.practitioner
        if name == 'practitioner':
            return practitioner.id
        return practitioner.provider.id

    @classmethod
    def search_certificate_field(cls, name, clause):
        nested = 'certificate.practitioner'
        if name == 'provider':
            nested += '.provider'
        return [(nested + clause[0][len(name):],) + tuple(clause[1:])]

    @classmethod
    @without_check_access
    def notify(cls, alerts):
        "A notification to the provider's administrators for each alert"
        pool = Pool()
        User = pool.get('res.user')
        Notification = pool.get('res.notification')
        ModelData = pool.get('ir.model.data')
        group = ModelData.get_id('elder_base', 'group_provider_admin')
        values = []
        for alert in alerts:
            practitioner = alert.certificate.practitioner
            label = gettext('elder_community.msg_alert_' + alert.kind,
                practitioner=practitioner.rec_name,
                certificate=alert.certificate.name,
                date=alert.expiry_date)
            for user in User.search([
                        ('groups', '=', group),
                        ('elder_provider', '=', practitioner.provider.id),
                        ]):
                values.append({
                        'user': user.id,
                        'label': label,
                        'icon': 'tryton-warning',
                        'model': 'elder.practitioner',
                        'records': json.dumps([practitioner.id]),
                        })
        if values:
            with Transaction().set_context(_check_access=False):
                Notification.create(values)

# This file is part of the eldercare platform. See LICENSE.
"""The dishonest list (失信名单): proposal (by the scheduler when a score
falls below the policy's threshold, or by hand), publication by a
supervisor, expiry, and credit repair (信用修复) under the policy's rules."""
import datetime as dt

from trytond.i18n import gettext
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Bool, Eval
from trytond.transaction import Transaction

from .credit import NEGATIVE_EVENTS, Policy
from .exceptions import CreditError

STATES = [
    ('proposed', "Proposed"),
    ('published', "Published"),
    ('repair_requested', "Repair Requested"),
    ('repaired', "Repaired"),
    ('expired', "Expired"),
    ('rejected', "Rejected"),
    ]
# A subject is on the list in these states (the penalty applies).
LISTED = ('published', 'repair_requested')


class Listing(Workflow, ModelSQL, ModelView):
    "Dishonest list entry (失信名单)"
    __name__ = 'credit.listing'
    _proposed = {'readonly': Eval('state') != 'proposed'}
    provider = fields.Many2One(
        'elder.provider', "Provider", ondelete='RESTRICT', states={
            'readonly': Eval('state') != 'proposed',
            'required': ~Bool(Eval('practitioner')),
            'invisible': Bool(Eval('practitioner')),
            })
    practitioner = fields.Many2One(
        'elder.practitioner', "Practitioner", ondelete='RESTRICT', states={
            'readonly': Eval('state') != 'proposed',
            'required': ~Bool(Eval('provider')),
            'invisible': Bool(Eval('provider')),
            })
    public_name = fields.Function(
        fields.Char("Published Name"), 'get_public_name')
    reason = fields.Text("Reason", required=True, states=_proposed)
    score = fields.Integer("Score when Proposed", readonly=True)
    proposed_date = fields.Date("Proposed On", required=True, readonly=True)
    publish_date = fields.Date("Published On", readonly=True)
    publication_end = fields.Date("Public Until", readonly=True)
    rectification = fields.Text("Rectification",
        states={'readonly': ~Eval('state').in_(['published'])},
        help="What the subject did to correct the behaviour; required to "
        "request a repair.")
    repair_date = fields.Date("Repaired On", readonly=True)
    repair_decision = fields.Text("Repair Decision",
        states={'readonly': Eval('state') != 'repair_requested'})
    state = fields.Selection(STATES, "State", required=True, readonly=True)
    del _proposed

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.provider, Index.Range())),
                Index(t, (t.practitioner, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('proposed_date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('proposed', 'published'),
            ('proposed', 'rejected'),
            ('published', 'repair_requested'),
            ('repair_requested', 'published'),
            ('repair_requested', 'repaired'),
            ('published', 'expired'),
            }
        buttons = {
            'publish': ['proposed'],
            'reject': ['proposed'],
            'request_repair': ['published'],
            'approve_repair': ['repair_requested'],
            'deny_repair': ['repair_requested'],
            }
        for button, states in buttons.items():
            cls._buttons[button] = {
                'invisible': ~Eval('state').in_(states),
                'depends': ['state'],
                }

    @staticmethod
    def default_state():
        return 'proposed'

    @classmethod
    def default_proposed_date(cls):
        return Pool().get('ir.date').today()

    @property
    def subject(self):
        return self.provider or self.practitioner

    def get_rec_name(self, name):
        return self.subject.rec_name if self.subject else ''

    def get_public_name(self, name):
        "Providers by name; practitioners' names masked (personal data)"
        if self.provider:
            return self.provider.name
        if self.practitioner:
            name = self.practitioner.name
            return name[:1] + '*' * max(1, len(name) - 1)

    @classmethod
    def is_listed(cls, subject, date=None):
        field = 'provider' if subject.__name__ == 'elder.provider' \
            else 'practitioner'
        return bool(cls.search([
                    (field, '=', subject.id),
                    ('state', 'in', LISTED),
                    ], limit=1))

    @classmethod
    def validate_fields(cls, listings, field_names):
        super().validate_fields(listings, field_names)
        for listing in listings:
            if bool(listing.provider) == bool(listing.practitioner):
                raise CreditError(gettext(
                        'elder_community.msg_credit_one_subject'))
            if listing.state in LISTED + ('proposed',):
                field = 'provider' if listing.provider else 'practitioner'
                others = cls.search([
                        (field, '=', listing.subject.id),
                        ('state', 'in', LISTED + ('proposed',)),
                        ('id', '!=', listing.id),
                        ], limit=1)
                if others:
                    raise CreditError(gettext(
                            'elder_community.msg_listing_duplicate',
                            subject=listing.subject.rec_name))

    @classmethod
    @ModelView.button
    @Workflow.transition('published')
    def publish(cls, listings):
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        policy = Policy.get()
        for listing in listings:
            if listing.state != 'proposed':
                continue  # a denied repair: the publication goes on
            cls.write([listing], {
                    'publish_date': today,
                    'publication_end': today + dt.timedelta(
                        days=policy.publication_days),
                    })

    @classmethod
    @ModelView.button
    @Workflow.transition('rejected')
    def reject(cls, listings):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('repair_requested')
    def request_repair(cls, listings):
        for listing in listings:
            if not listing.rectification:
                raise CreditError(gettext(
                        'elder_community.msg_listing_rectification',
                        subject=listing.rec_name))

    def repair_refusal(self, date):
        "The message of the rule the repair breaks on date, or None"
        pool = Pool()
        Record = pool.get('credit.record')
        policy = Policy.get()
        earliest = self.publish_date + dt.timedelta(
            days=policy.repair_min_days)
        if date < earliest:
            return gettext('elder_community.msg_listing_repair_early',
                subject=self.rec_name, date=earliest)
        field = 'provider' if self.provider else 'practitioner'
        with Transaction().set_context(_check_access=False):
            new = Record.search([
                    (field, '=', self.subject.id),
                    ('event', 'in', list(NEGATIVE_EVENTS)),
                    ('state', '=', 'valid'),
                    ('date', '>', self.publish_date),
                    ], limit=1)
        if new:
            return gettext('elder_community.msg_listing_repair_new_record',
                subject=self.rec_name, record=new[0].rec_name)

    @classmethod
    @ModelView.button
    @Workflow.transition('repaired')
    def approve_repair(cls, listings):
        """Repair when the rules are met: the minimum time on the list has
        passed and no new deduction was recorded since publication; a
        'repair' credit record gives back the policy's points"""
        pool = Pool()
        Date = pool.get('ir.date')
        Record = pool.get('credit.record')
        today = Date.today()
        for listing in listings:
            refusal = listing.repair_refusal(today)
            if refusal:
                raise CreditError(refusal)
            cls.write([listing], {'repair_date': today})
            Record.record_event(listing.subject, 'repair', origin=listing,
                date=today, description=listing.rectification)

    @classmethod
    @ModelView.button
    @Workflow.transition('published')
    def deny_repair(cls, listings):
        pass

    @classmethod
    def cron_update(cls):
        """Propose the subjects whose score fell below the threshold and
        end the publications whose time is over"""
        pool = Pool()
        Provider = pool.get('elder.provider')
        Practitioner = pool.get('elder.practitioner')
        Record = pool.get('credit.record')
        Date = pool.get('ir.date')
        today = Date.today()
        policy = Policy.get()
        cls.expire(cls.search([
                    ('state', '=', 'published'),
                    ('publication_end', '<', today),
                    ]))
        proposed = []
        subjects = {r.subject for r in Record.search([
                    ('state', '=', 'valid')])}
        for key in sorted(subjects):
            model, id_ = key.split(',')
            Model = Provider if model == 'elder.provider' else Practitioner
            subject = Model(int(id_))
            field = 'provider' if model == 'elder.provider' else 'practitioner'
            if cls.search([
                        (field, '=', subject.id),
                        ('state', 'in', LISTED + ('proposed',)),
                        ], limit=1):
                continue
            credit = subject.credit(today)
            if credit['score'] < policy.listing_threshold:
                proposed.extend(cls.create([{
                                field: subject.id,
                                'score': credit['score'],
                                'reason': credit['explanation'],
                                }]))
        return proposed

    @classmethod
    @Workflow.transition('expired')
    def expire(cls, listings):
        pass

    @classmethod
    def published(cls):
        "The public list: what is published, for the publication route"
        return [{
                'name': listing.public_name,
                'kind': 'provider' if listing.provider else 'practitioner',
                'credit_code': (listing.provider.credit_code
                    if listing.provider else None),
                'reason': listing.reason,
                'published': listing.publish_date.isoformat(),
                'until': listing.publication_end.isoformat(),
                } for listing in cls.search([('state', 'in', LISTED)],
                order=[('publish_date', 'DESC'), ('id', 'DESC')])]

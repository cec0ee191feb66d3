# This file is part of the eldercare platform. See LICENSE.
"""Day-care attendance (日间照料考勤): check-in and check-out of older people
at a facility, by hand, with a card or QR code, or by face."""
import datetime as dt

from sql import Literal
from sql.operators import Equal

from trytond.i18n import gettext
from trytond.model import Exclude, Index, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.pyson import Eval
from trytond.rpc import RPC

from .exceptions import AttendanceError

METHODS = [
    ('manual', "Manual"),
    ('card', "Card"),
    ('qr', "QR code"),
    ('face', "Face recognition"),
    ]
STATES = [
    ('present', "Present"),
    ('left', "Left"),
    ]
# Clock skew accepted from a terminal at the door.
FUTURE_TOLERANCE = dt.timedelta(minutes=5)


def _now():
    return dt.datetime.now().replace(microsecond=0)


class Attendance(ModelSQL, ModelView):
    "Day-care attendance (日间照料考勤)"
    __name__ = 'community.attendance'
    facility = fields.Many2One(
        'community.facility', "Facility", required=True, readonly=True,
        ondelete='RESTRICT')
    elder = fields.Many2One(
        'elder.elder', "Older Person", required=True, readonly=True,
        ondelete='RESTRICT')
    date = fields.Date("Date", required=True, readonly=True)
    checkin_time = fields.Timestamp("Check-in Time", required=True,
        readonly=True)
    checkin_method = fields.Selection(
        METHODS, "Check-in Method", required=True, readonly=True, sort=False)
    checkout_time = fields.Timestamp("Check-out Time", readonly=True)
    checkout_method = fields.Selection(
        [(None, "")] + METHODS, "Check-out Method", readonly=True,
        sort=False)
    auto_closed = fields.Boolean("Closed by the System", readonly=True,
        help="Nobody checked the older person out: the scheduler closed the "
        "visit at the end of the day.")
    meal = fields.Boolean("Meal Taken",
        states={'readonly': Eval('state') != 'present'})
    minutes = fields.Function(fields.Integer("Minutes"), 'get_minutes')
    counter = fields.Function(fields.Integer("Visits"), 'get_counter')
    note = fields.Char("Note")
    state = fields.Selection(STATES, "State", required=True, readonly=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            # One open visit per older person, whatever the facility: the
            # database refuses a second check-in even from two terminals.
            ('present_uniq', Exclude(t, (t.elder, Equal),
                    where=t.state == Literal('present')),
                'elder_community.msg_attendance_already_present'),
            ]
        cls._sql_indexes.update({
                Index(t, (t.facility, Index.Range()), (t.date, Index.Range())),
                Index(t, (t.elder, Index.Range())),
                })
        cls._order = [('checkin_time', 'DESC'), ('id', 'DESC')]
        cls.__rpc__.update({
                'check_in': RPC(readonly=False, result=int),
                'check_out': RPC(readonly=False, result=int),
                })
        cls._buttons.update({
                'checkout_button': {
                    'invisible': Eval('state') != 'present',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'present'

    def get_minutes(self, name):
        if self.checkin_time and self.checkout_time:
            return int(
                (self.checkout_time - self.checkin_time).total_seconds() // 60)

    def get_counter(self, name):
        return 1

    def get_rec_name(self, name):
        return '%s @ %s %s' % (
            self.elder.rec_name, self.facility.rec_name, self.date)

    @classmethod
    def check_modification(cls, mode, records, values=None, external=False):
        super().check_modification(
            mode, records, values=values, external=external)
        if mode == 'delete':
            # Attendance is evidence (subsidies are paid on it).
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_delete'))

    # --- the door ----------------------------------------------------------

    @classmethod
    def _verify_face(cls, facility, elder, photo):
        """Return the older person the photo shows, or None.

        With elder: a 1:1 check that the photo is that person; without: a
        1:N search among the facility's enrolled members. Called without
        access checks before anything is saved. No face engine exists in
        this module, so nobody is recognised here; elder_face overrides this
        method (and may raise a UserError, e.g. when liveness fails)."""
        return None

    @classmethod
    def _identify(cls, facility, elder, method, card, photo):
        pool = Pool()
        Member = pool.get('community.facility.member')
        Elder = pool.get('elder.elder')
        if method not in dict(METHODS):
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_method', method=method))
        if method in {'card', 'qr'}:
            members = Member.search([
                    ('facility', '=', facility.id),
                    ('card_number', '=', (card or '').strip()),
                    ]) if card else []
            if not members:
                raise AttendanceError(gettext(
                        'elder_community.msg_attendance_unknown_card',
                        facility=facility.rec_name))
            member, = members
            if elder and member.elder != elder:
                raise AttendanceError(gettext(
                        'elder_community.msg_attendance_card_other',
                        elder=elder.rec_name))
            return member.elder
        if method == 'face':
            if not photo:
                raise AttendanceError(gettext(
                        'elder_community.msg_attendance_face_photo'))
            recognised = cls._verify_face(facility, elder, photo)
            if recognised is None or (elder and recognised != elder):
                raise AttendanceError(gettext(
                        'elder_community.msg_attendance_face_unknown'))
            return Elder(int(recognised))
        if not elder:
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_elder_required'))
        return elder

    @classmethod
    def _when(cls, when):
        now = _now()
        when = when or now
        if when > now + FUTURE_TOLERANCE:
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_future'))
        return when

    @classmethod
    def check_in(cls, facility, elder=None, method='manual', card=None,
            photo=None, when=None, meal=None):
        """Check the older person in at the facility; return the attendance.

        facility and elder are records or ids; card is the card or QR code
        number (methods 'card' and 'qr'); photo the image for 'face'."""
        pool = Pool()
        Facility = pool.get('community.facility')
        Elder = pool.get('elder.elder')
        Member = pool.get('community.facility.member')
        facility = Facility(int(facility))
        elder = Elder(int(elder)) if elder is not None else None
        when = cls._when(when)
        if facility.state != 'open':
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_facility_closed',
                    facility=facility.rec_name))
        elder = cls._identify(facility, elder, method, card, photo)
        if elder.state != 'active':
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_elder_inactive',
                    elder=elder.rec_name))
        present = cls.search([
                ('elder', '=', elder.id),
                ('state', '=', 'present'),
                ], limit=1)
        if present:
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_already_present',
                    elder=elder.rec_name,
                    facility=present[0].facility.rec_name))
        if facility.seats and facility.present >= facility.seats:
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_full',
                    facility=facility.rec_name, seats=facility.seats))
        if meal is None:
            member = Member.search([
                    ('facility', '=', facility.id),
                    ('elder', '=', elder.id),
                    ], limit=1)
            meal = bool(facility.meal_service and member and member[0].meals)
        attendance, = cls.create([{
                    'facility': facility.id,
                    'elder': elder.id,
                    'date': when.date(),
                    'checkin_time': when,
                    'checkin_method': method,
                    'meal': meal,
                    }])
        return attendance

    @classmethod
    def check_out(cls, facility, elder=None, method='manual', card=None,
            photo=None, when=None):
        "Check the older person out of the facility; return the attendance"
        pool = Pool()
        Facility = pool.get('community.facility')
        Elder = pool.get('elder.elder')
        facility = Facility(int(facility))
        elder = Elder(int(elder)) if elder is not None else None
        when = cls._when(when)
        elder = cls._identify(facility, elder, method, card, photo)
        present = cls.search([
                ('facility', '=', facility.id),
                ('elder', '=', elder.id),
                ('state', '=', 'present'),
                ], limit=1)
        if not present:
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_not_present',
                    elder=elder.rec_name, facility=facility.rec_name))
        attendance, = present
        if when < attendance.checkin_time:
            raise AttendanceError(gettext(
                    'elder_community.msg_attendance_before_checkin'))
        cls.write([attendance], {
                'checkout_time': when,
                'checkout_method': method,
                'state': 'left',
                })
        return attendance

    @classmethod
    @ModelView.button
    def checkout_button(cls, attendances):
        for attendance in attendances:
            if attendance.state == 'present':
                cls.check_out(attendance.facility, attendance.elder)

    @classmethod
    def cron_close_day(cls):
        "Close the visits left open on a previous day at their day's end"
        pool = Pool()
        Date = pool.get('ir.date')
        today = Date.today()
        stale = cls.search([
                ('state', '=', 'present'),
                ('date', '<', today),
                ])
        for attendance in stale:
            end = dt.datetime.combine(attendance.date, dt.time(23, 59))
            cls.write([attendance], {
                    'checkout_time': max(end, attendance.checkin_time),
                    'state': 'left',
                    'auto_closed': True,
                    })
        return stale

    @classmethod
    def present_count(cls, facility):
        "Older people at the facility now"
        return cls.search_count([
                ('facility', '=', int(facility)),
                ('state', '=', 'present'),
                ])


# This file is part of the eldercare platform. See LICENSE.
"""The face check of the worker app's check-in (registered only when
elder_service is activated: tryton.cfg [register elder_service]).

elder_service exposes ``service.order._verify_face(order, photo)`` as a hook
and knows nothing of faces; elder_face overrides it here. elder_face lists
elder_service in extras_depend, so neither module imports the other and
elder_face still installs without elder_service (canteens only)."""
from trytond.i18n import gettext
from trytond.pool import Pool, PoolMeta
from trytond.transaction import without_check_access

from .exceptions import FaceQualityError


class Order(metaclass=PoolMeta):
    __name__ = 'service.order'

    @classmethod
    def _verify_face(cls, order, photo):
        """1:1 of the check-in photo against the enrolled face of the older
        person (or the practitioner, by configuration), with liveness.

        A person who is not enrolled (no biometric consent: face recognition
        is never a condition of the service) is not checked. Returns None
        when the check passes or is not done, else the reason; raises when
        the configuration refuses failed check-ins."""
        reason = super()._verify_face(order, photo)
        if reason:
            return reason
        pool = Pool()
        Config = pool.get('face.configuration')
        Enrolment = pool.get('face.enrolment')
        Attempt = pool.get('face.attempt')
        config = Config(1)
        with without_check_access():
            if config.checkin_subject == 'practitioner':
                party = order.practitioner.party if order.practitioner else None
            else:
                party = order.elder.party
        enrolment = Enrolment.for_party(party) if party else None
        if not enrolment:
            return None
        if not photo:
            reason = gettext('elder_face.msg_checkin_no_photo')
        else:
            attempt = Attempt.verify(enrolment, photo, source='checkin',
                reference=str(order))
            if attempt.decision == 'accepted':
                return None
            reason = attempt.reason_text
        if config.checkin_failure == 'refuse':
            raise FaceQualityError(gettext(
                    'elder_face.msg_checkin_refused', reason=reason))
        return reason

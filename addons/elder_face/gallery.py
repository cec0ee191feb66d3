# This file is part of the eldercare platform. See LICENSE.
"""Galleries: the people a terminal may identify (1:N), e.g. the older
people registered at one meal canteen, and the terminal logins that use it."""
from trytond.model import DeactivableMixin, ModelSQL, ModelView, Unique, fields


class Gallery(DeactivableMixin, ModelSQL, ModelView):
    "Face Gallery (人脸识别组)"
    __name__ = 'face.gallery'
    name = fields.Char("Name", required=True)
    code = fields.Char("Code", required=True,
        help="The code a terminal sends to the identification route.")
    members = fields.Many2Many('face.gallery-face.enrolment', 'gallery',
        'enrolment', "Members")
    terminals = fields.Many2Many('face.gallery-res.user', 'gallery', 'user',
        "Terminal Users",
        help="The logins of the terminals allowed to identify in it.")

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_constraints += [
            ('code_uniq', Unique(t, t.code), 'elder_face.msg_gallery_code'),
            ]


class GalleryMember(ModelSQL):
    "Face Gallery Member"
    __name__ = 'face.gallery-face.enrolment'
    gallery = fields.Many2One('face.gallery', "Gallery", required=True,
        ondelete='CASCADE')
    enrolment = fields.Many2One('face.enrolment', "Enrolment", required=True,
        ondelete='CASCADE')


class GalleryTerminal(ModelSQL):
    "Face Gallery Terminal"
    __name__ = 'face.gallery-res.user'
    gallery = fields.Many2One('face.gallery', "Gallery", required=True,
        ondelete='CASCADE')
    user = fields.Many2One('res.user', "User", required=True,
        ondelete='CASCADE')

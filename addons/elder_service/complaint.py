# This file is part of the eldercare platform. See LICENSE.
"Complaints about services (投诉, standard §7.1.4)."
from trytond.model import Index, ModelSQL, ModelView, Workflow, fields
from trytond.pool import Pool
from trytond.pyson import Eval

STATES = [
    ('open', "Open"),
    ('processing', "Processing"),
    ('resolved', "Resolved"),
    ('closed', "Closed"),
    ]
CHANNELS = [
    ('hotline', "Hotline"),
    ('family', "Family / mini program"),
    ('visit', "Return visit"),
    ('supervision', "Supervision"),
    ('other', "Other"),
    ]


class Complaint(Workflow, ModelSQL, ModelView):
    "Service complaint (服务投诉)"
    __name__ = 'service.complaint'

    number = fields.Char("Number", readonly=True)
    order = fields.Many2One(
        'service.order', "Order", required=True, ondelete='RESTRICT',
        states={'readonly': Eval('state') != 'open'})
    elder = fields.Function(
        fields.Many2One('elder.elder', "Older Person"), 'get_order_field')
    provider = fields.Function(
        fields.Many2One('elder.provider', "Provider"), 'get_order_field',
        searcher='search_order_field')
    channel = fields.Selection(CHANNELS, "Channel", required=True,
        states={'readonly': Eval('state') != 'open'})
    date = fields.Timestamp("Date", required=True,
        states={'readonly': Eval('state') != 'open'})
    complainant = fields.Char("Complainant",
        states={'readonly': Eval('state') != 'open'})
    description = fields.Text("Description", required=True,
        states={'readonly': Eval('state') != 'open'})
    provider_response = fields.Text("Provider Response",
        states={'readonly': Eval('state').in_(['resolved', 'closed'])})
    resolution = fields.Text("Resolution",
        states={
            'readonly': Eval('state') == 'closed',
            'required': Eval('state').in_(['resolved', 'closed']),
            })
    substantiated = fields.Boolean("Substantiated",
        states={'readonly': Eval('state') == 'closed'},
        help="Counts against the provider in its evaluation.")
    state = fields.Selection(STATES, "State", readonly=True, required=True)

    @classmethod
    def __setup__(cls):
        super().__setup__()
        t = cls.__table__()
        cls._sql_indexes.update({
                Index(t, (t.order, Index.Range())),
                Index(t, (t.state, Index.Equality(cardinality='low'))),
                })
        cls._order = [('date', 'DESC'), ('id', 'DESC')]
        cls._transitions |= {
            ('open', 'processing'),
            ('processing', 'resolved'),
            ('open', 'resolved'),
            ('resolved', 'processing'),
            ('resolved', 'closed'),
            }
        cls._buttons.update({
                'process': {
                    'invisible': ~Eval('state').in_(['open', 'resolved']),
                    'depends': ['state'],
                    },
                'resolve': {
                    'invisible': ~Eval('state').in_(['open', 'processing']),
                    'depends': ['state'],
                    },
                'close': {
                    'invisible': Eval('state') != 'resolved',
                    'depends': ['state'],
                    },
                })

    @staticmethod
    def default_state():
        return 'open'

    @staticmethod
    def default_channel():
        return 'hotline'

    @staticmethod
    def default_date():
        import datetime as dt
        return dt.datetime.now().replace(microsecond=0)

    def get_order_field(self, name):
        value = getattr(self.order, name)
        return value.id if value else None

    @classmethod
    def search_order_field(cls, name, clause):
        return [('order.' + clause[0],) + tuple(clause[1:])]

    @classmethod
    def preprocess_values(cls, mode, values):
        pool = Pool()
        Sequence = pool.get('ir.sequence')
        ModelData = pool.get('ir.model.data')
        values = super().preprocess_values(mode, values)
        if mode == 'create' and not values.get('number'):
            values['number'] = Sequence(ModelData.get_id(
                    'elder_service', 'sequence_complaint')).get()
        return values

    @classmethod
    @ModelView.button
    @Workflow.transition('processing')
    def process(cls, complaints):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('resolved')
    def resolve(cls, complaints):
        pass

    @classmethod
    @ModelView.button
    @Workflow.transition('closed')
    def close(cls, complaints):
        pass

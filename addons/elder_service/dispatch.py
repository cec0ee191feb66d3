# This file is part of the eldercare platform. See LICENSE.
"""Dispatch policies: which provider gets an order.

The engine (``DispatchPolicy.dispatch``) gathers the facts about every
candidate provider and applies the hard rules (enabled, covers the older
person's region, offers the service type, has capacity left, did not decline
this order before). Ranking is a strategy chosen by the policy's ``kind``
from ``STRATEGIES``: a region adds a strategy by registering a class and
extending the ``kind`` selection, without touching the engine.
"""
import datetime as dt
import json

from sql.aggregate import Avg, Count

from trytond.i18n import gettext
from trytond.model import DeactivableMixin, ModelSQL, ModelView, fields
from trytond.pool import Pool
from trytond.transaction import Transaction, without_check_access

from .geo import has_position, haversine
from .item import region_ancestors

OPEN_STATES = ('dispatched', 'accepted', 'on_the_way', 'in_service')
SERVED_STATES = ('completed', 'confirmed', 'closed')
STRATEGIES = {}


def register_strategy(kind):
    "Register a strategy class under the policy kind"
    def decorator(cls):
        STRATEGIES[kind] = cls
        return cls
    return decorator


class Strategy:
    "Ranks the eligible providers of an order"

    def __init__(self, policy):
        self.policy = policy

    def exclude(self, order, fact):
        "Return extra reasons (message ids) to exclude a candidate"
        return []

    def score(self, order, fact):
        "Return a dict of sub-scores with the 'total' key"
        raise NotImplementedError


@register_strategy('weighted')
class WeightedStrategy(Strategy):
    """Weighted sum of sub-scores in [0, 1]: service-area match, distance,
    load, rating, continuity, minus the evaluation penalty."""

    def score(self, order, fact):
        p = self.policy
        scores = {}
        depth = fact['area_depth']
        scores['area'] = 1 / (1 + depth)
        if fact['distance_km'] is None:
            scores['distance'] = 0.5
        else:
            scale = float(p.distance_scale or 5)
            scores['distance'] = 1 / (1 + fact['distance_km'] / scale)
        if fact['capacity']:
            scores['load'] = max(0, 1 - fact['open_orders'] / fact['capacity'])
        else:
            scores['load'] = 1 / (1 + fact['open_orders'])
        rating = fact['rating']
        scores['rating'] = 0.6 if rating is None else rating / 5
        if fact['continuity']:
            scores['continuity'] = 1.0
        elif fact.get('served_before'):
            scores['continuity'] = 0.25
        else:
            scores['continuity'] = 0.0
        scores['penalty'] = fact['penalty']
        weights = {
            'area': p.weight_area, 'distance': p.weight_distance,
            'load': p.weight_load, 'rating': p.weight_rating,
            'continuity': p.weight_continuity,
            }
        total = sum(float(weights[k] or 0) * scores[k] for k in weights)
        total -= float(p.weight_penalty or 0) * scores['penalty']
        scores = {k: round(v, 4) for k, v in scores.items()}
        scores['total'] = round(total, 4)
        return scores


@register_strategy('nearest')
class NearestStrategy(Strategy):
    "The nearest eligible provider; providers without coordinates last"

    def score(self, order, fact):
        distance = fact['distance_km']
        total = -distance if distance is not None else -1e6
        return {'distance_km': distance, 'total': round(total, 4)}


class DispatchPolicy(DeactivableMixin, ModelSQL, ModelView):
    "Dispatch policy (派单策略)"
    __name__ = 'service.dispatch.policy'

    name = fields.Char("Name", required=True, translate=True)
    kind = fields.Selection([
            ('weighted', "Weighted score"),
            ('nearest', "Nearest provider"),
            ], "Kind", required=True, sort=False,
        help="The strategy that ranks eligible providers.")
    weight_area = fields.Float("Service-Area Weight")
    weight_distance = fields.Float("Distance Weight")
    weight_load = fields.Float("Load Weight")
    weight_rating = fields.Float("Rating Weight")
    weight_continuity = fields.Float("Continuity Weight")
    weight_penalty = fields.Float("Penalty Weight")
    distance_scale = fields.Float(
        "Distance Scale", help="Kilometres at which the distance score "
        "halves.")

    @staticmethod
    def default_kind():
        return 'weighted'

    @staticmethod
    def default_weight_area():
        return 1.0

    @staticmethod
    def default_weight_distance():
        return 1.0

    @staticmethod
    def default_weight_load():
        return 1.0

    @staticmethod
    def default_weight_rating():
        return 1.0

    @staticmethod
    def default_weight_continuity():
        return 0.5

    @staticmethod
    def default_weight_penalty():
        return 1.0

    @staticmethod
    def default_distance_scale():
        return 5.0

    def get_strategy(self):
        return STRATEGIES[self.kind](self)

    def dispatch(self, order):
        """Return the chosen provider (or None) and the explanation of the
        choice as a JSON-serialisable dict"""
        strategy = self.get_strategy()
        candidates = []
        for fact in facts(order):
            reasons = list(fact['excluded']) + strategy.exclude(order, fact)
            entry = {
                'provider': fact['provider'].id,
                'name': fact['provider'].rec_name,
                'facts': {k: fact[k] for k in [
                        'area_depth', 'distance_km', 'open_orders',
                        'capacity', 'rating', 'continuity', 'served_before',
                        'caregiver', 'penalty']},
                'excluded': reasons,
                }
            if not reasons:
                entry['scores'] = strategy.score(order, fact)
            candidates.append(entry)
        eligible = [c for c in candidates if not c['excluded']]
        eligible.sort(key=lambda c: (
                -c['scores']['total'], c['facts']['open_orders'],
                c['provider']))
        candidates.sort(key=lambda c: (
                bool(c['excluded']),
                -c['scores']['total'] if not c['excluded'] else 0,
                c['provider']))
        chosen = eligible[0]['provider'] if eligible else None
        explanation = {
            'policy': self.rec_name,
            'kind': self.kind,
            'at': dt.datetime.now().replace(microsecond=0).isoformat(),
            'chosen': chosen,
            'candidates': candidates,
            }
        return chosen, explanation


def continuity(elder, provider_ids=None):
    """Return the providers that served the older person and, for each
    provider, the caregiver of the most recent visit who is still active
    and still works for it: {provider id: (practitioner id, name)}"""
    pool = Pool()
    Order = pool.get('service.order')
    domain = [
        ('elder', '=', elder.id),
        ('state', 'in', SERVED_STATES),
        ('provider', '!=', None),
        ]
    if provider_ids is not None:
        domain.append(('provider', 'in', provider_ids))
    served, caregivers = set(), {}
    with without_check_access():
        for order in Order.search(domain, order=[
                    ('checkout_time', 'DESC NULLS LAST'), ('id', 'DESC')]):
            provider = order.provider.id
            served.add(provider)
            practitioner = order.practitioner
            if (provider not in caregivers and practitioner
                    and practitioner.state == 'active'
                    and practitioner.provider.id == provider):
                caregivers[provider] = (practitioner.id, practitioner.name)
    return served, caregivers


def facts(order):
    "Yield the facts of every provider that could be a candidate for order"
    pool = Pool()
    Provider = pool.get('elder.provider')
    Order = pool.get('service.order')
    Event = pool.get('service.order.event')
    elder, item = order.elder, order.item
    ancestors = region_ancestors(elder.region)
    providers = Provider.search(['OR',
            ('service_types', '=', item.service_type.id),
            ('service_areas', 'in', ancestors),
            ], order=[('id', 'ASC')])
    if not providers:
        return
    ids = [p.id for p in providers]
    cursor = Transaction().connection.cursor()
    o = Order.__table__()

    cursor.execute(*o.select(o.provider, Count(o.id),
            where=o.provider.in_(ids) & o.state.in_(OPEN_STATES)
            & (o.id != (order.id or -1)),
            group_by=[o.provider]))
    load = dict(cursor)
    cursor.execute(*o.select(o.provider, Avg(o.rating),
            where=o.provider.in_(ids) & (o.state == 'closed')
            & (o.rating != None),  # noqa: E711
            group_by=[o.provider]))
    ratings = {p: float(r) for p, r in cursor}
    served, caregivers = set(), {}
    if elder.id is not None:
        served, caregivers = continuity(elder, ids)
    declined = set()
    if order.id is not None:
        declined = {e.provider.id for e in Event.search([
                    ('order', '=', order.id),
                    ('action', 'in', ['reject', 'timeout']),
                    ('provider', '!=', None),
                    ])}

    for provider in providers:
        excluded = []
        if provider.state != 'active':
            excluded.append('not_active')
        areas = {a.id for a in provider.service_areas}
        depth = next(
            (i for i, r in enumerate(ancestors) if r in areas), None)
        if depth is None:
            excluded.append('out_of_area')
        if item.service_type not in provider.service_types:
            excluded.append('type_not_offered')
        open_orders = load.get(provider.id, 0)
        if provider.capacity is not None and open_orders >= provider.capacity:
            excluded.append('over_capacity')
        if provider.id in declined:
            excluded.append('declined')
        distance = None
        if has_position(elder) and has_position(provider):
            distance = round(haversine(
                    elder.latitude, elder.longitude,
                    provider.latitude, provider.longitude) / 1000, 3)
        yield {
            'provider': provider,
            'excluded': excluded,
            'area_depth': depth,
            'distance_km': distance,
            'open_orders': open_orders,
            'capacity': provider.capacity,
            'rating': ratings.get(provider.id),
            # Continuity of care: the caregiver who served the older person
            # still works for the provider (1), or only the provider served
            # them before (served_before: that caregiver has left).
            'continuity': provider.id in caregivers,
            'served_before': provider.id in served,
            'caregiver': caregivers.get(provider.id),
            'penalty': provider.dispatch_penalty(),
            }


SCORE_LABELS = {'area', 'distance', 'load', 'rating', 'continuity',
    'penalty', 'distance_km'}


def _score_label(key):
    if key in SCORE_LABELS:
        return gettext('elder_service.msg_score_%s' % key)
    return key


def explain(explanation):
    "Render a stored explanation as translated text lines"
    if not explanation:
        return ''
    if isinstance(explanation, str):
        explanation = json.loads(explanation)
    if explanation.get('manual'):
        return gettext('elder_service.msg_dispatch_manual',
            provider=explanation.get('name', ''))
    lines = [gettext('elder_service.msg_dispatch_header',
            policy=explanation.get('policy', ''),
            at=explanation.get('at', ''))]
    chosen = explanation.get('chosen')
    if not chosen:
        lines.append(gettext('elder_service.msg_dispatch_no_candidate'))
    for c in explanation.get('candidates', []):
        if c['excluded']:
            reasons = ', '.join(
                gettext('elder_service.msg_dispatch_excluded_%s' % r)
                for r in c['excluded'])
            lines.append(gettext('elder_service.msg_dispatch_line_excluded',
                    provider=c['name'], reasons=reasons))
        else:
            scores = ', '.join('%s=%s' % (_score_label(k), v)
                for k, v in c['scores'].items() if k != 'total')
            caregiver = c.get('facts', {}).get('caregiver')
            if caregiver:
                scores += gettext('elder_service.msg_dispatch_continuity',
                    practitioner=caregiver[1])
            elif c.get('facts', {}).get('served_before'):
                scores += gettext(
                    'elder_service.msg_dispatch_continuity_provider')
            msg = ('elder_service.msg_dispatch_line_chosen'
                if c['provider'] == chosen
                else 'elder_service.msg_dispatch_line_candidate')
            lines.append(gettext(msg, provider=c['name'],
                    total=c['scores']['total'], scores=scores))
    return '\n'.join(lines)

# This file is part of the eldercare platform. See LICENSE.
"""Alarm rules: normalised device events → alarm signals.

A normalised event (what the bridge adapters produce, see the module README)
is a dict with ``kind`` (``alarm``, ``vitals``, ``state``, ``heartbeat``,
``position``, ``availability`` …) and ``values``, a flat dict using the
platform's value names: ``sos``, ``fall``, ``smoke``, ``gas``,
``water_leak`` (booleans), ``heart_rate``, ``spo2``, ``systolic``,
``diastolic``, ``glucose``, ``battery`` (numbers), ``occupancy``,
``contact``, ``latitude``, ``longitude``.

The registry maps an alarm kind to a rule; a rule looks at one event with
the limits that apply to the device (the older person's thresholds, else
the device type's defaults) and returns the signals it raises. Another
module adds or replaces a rule with ``register('kind')`` without touching
the engine.
"""
from collections import namedtuple

Signal = namedtuple('Signal', ['kind', 'priority', 'description'])

# Alarm priorities, 1 is the most urgent
CRITICAL, HIGH, NORMAL, LOW = 1, 2, 3, 4

DEFAULT_LIMITS = {
    'heart_rate_min': 45,
    'heart_rate_max': 120,
    'spo2_min': 90,
    'systolic_max': 160,
    'diastolic_max': 100,
    'glucose_max': 16.7,
    'inactivity_hours': 12,
    'low_battery': 20,
    }

RULES = {}


def register(kind):
    "Class decorator registering a rule for the alarm kind"
    def decorator(rule):
        RULES[kind] = rule() if isinstance(rule, type) else rule
        return rule
    return decorator


def evaluate(event, limits=None):
    "Return the signals every registered rule raises for the event"
    limits = {**DEFAULT_LIMITS, **{
            k: v for k, v in (limits or {}).items() if v is not None}}
    values = event.get('values') or {}
    if not isinstance(values, dict):
        return []
    signals = []
    for rule in RULES.values():
        signals.extend(rule(event, values, limits) or [])
    return signals


def _true(value):
    if isinstance(value, str):
        return value.strip().lower() in {'1', 'true', 'yes', 'on', 'alarm'}
    return bool(value) and value is not None


def _number(value):
    if isinstance(value, bool) or value is None:
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class FlagRule:
    "Raise when a boolean value is set"
    value = None
    kind = None
    priority = CRITICAL
    description = ''

    def __call__(self, event, values, limits):
        if _true(values.get(self.value)):
            yield Signal(self.kind, self.priority, self.description)


@register('sos')
class SOSRule(FlagRule):
    value, kind, description = 'sos', 'sos', "SOS button pressed"


@register('fall')
class FallRule(FlagRule):
    value, kind, description = 'fall', 'fall', "Fall detected"


@register('smoke')
class SmokeRule(FlagRule):
    value, kind, description = 'smoke', 'smoke', "Smoke detected"


@register('gas')
class GasRule(FlagRule):
    value, kind, description = 'gas', 'gas', "Gas leak detected"


@register('water')
class WaterRule(FlagRule):
    value, kind, priority, description = (
        'water_leak', 'water', HIGH, "Water leak detected")


@register('vitals')
class VitalsRule:
    "Vital signs outside the older person's limits"

    checks = [
        # value, limit, compare, label
        ('heart_rate', 'heart_rate_min', 'lt', "heart rate"),
        ('heart_rate', 'heart_rate_max', 'gt', "heart rate"),
        ('spo2', 'spo2_min', 'lt', "SpO2"),
        ('systolic', 'systolic_max', 'gt', "systolic pressure"),
        ('diastolic', 'diastolic_max', 'gt', "diastolic pressure"),
        ('glucose', 'glucose_max', 'gt', "blood glucose"),
        ]

    def __call__(self, event, values, limits):
        out = []
        for name, limit_name, compare, label in self.checks:
            value, limit = _number(values.get(name)), _number(
                limits.get(limit_name))
            if value is None or limit is None:
                continue
            if (compare == 'lt' and value < limit) or (
                    compare == 'gt' and value > limit):
                out.append('%s %g %s %g' % (
                        label, value, '<' if compare == 'lt' else '>', limit))
        if out:
            yield Signal('vitals', HIGH, ', '.join(out))


@register('low_battery')
class LowBatteryRule:
    def __call__(self, event, values, limits):
        battery = _number(values.get('battery'))
        if battery is not None and battery <= _number(limits['low_battery']):
            yield Signal('low_battery', LOW, 'battery %g%%' % battery)
        elif battery is None and (_true(values.get('low_battery'))
                or _true(values.get('battery_low'))):
            yield Signal('low_battery', LOW, 'battery low')


@register('offline')
class AvailabilityRule:
    "A gateway (Zigbee2MQTT, ChirpStack) reports the device unreachable"

    def __call__(self, event, values, limits):
        if event.get('kind') == 'availability' and 'online' in values \
                and not _true(values['online']):
            yield Signal('offline', NORMAL, "reported unavailable")

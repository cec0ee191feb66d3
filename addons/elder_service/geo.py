# This file is part of the eldercare platform. See LICENSE.
import math

EARTH_RADIUS = 6371008.8  # metres, mean radius


def haversine(lat1, lon1, lat2, lon2):
    "Return the great-circle distance in metres between two positions"
    lat1, lon1, lat2, lon2 = map(
        lambda v: math.radians(float(v)), (lat1, lon1, lat2, lon2))
    a = (math.sin((lat2 - lat1) / 2) ** 2
        + math.cos(lat1) * math.cos(lat2) * math.sin((lon2 - lon1) / 2) ** 2)
    return 2 * EARTH_RADIUS * math.asin(min(1, math.sqrt(a)))


def has_position(record, lat='latitude', lon='longitude'):
    return (getattr(record, lat, None) is not None
        and getattr(record, lon, None) is not None)

# This file is part of the eldercare platform. See LICENSE.
import datetime as dt

from trytond.i18n import gettext
from trytond.model import ModelSingleton, ModelSQL, ModelView, fields

from .exceptions import StoreError
from .store import StoreUnavailable, get_store


class Configuration(ModelSingleton, ModelSQL, ModelView):
    "Analytics configuration"
    __name__ = 'bi.configuration'
    # The service token opens the store's query port (GB/T 35273: 口令).
    _sensitivity = {'service_token': 'sensitive'}

    sync_interval = fields.Integer("Sync Interval (s)", required=True,
        domain=[('sync_interval', '>=', 1)],
        help="How often the analytics service syncs the database.")
    lag_alert = fields.Integer("Lag Alert (s)", required=True,
        help="A table not synced for longer shows as lagging.")
    service_url = fields.Char("Analytics Service", readonly=True,
        help="Written by the analytics service when it starts.")
    service_token = fields.Char("Service Token", readonly=True)
    service_pid = fields.Integer("Service Process", readonly=True)
    service_heartbeat = fields.Timestamp("Last Sync", readonly=True)
    service_state = fields.Function(fields.Selection([
                ('running', "Running"),
                ('stale', "Not Syncing"),
                ('none', "Not Started"),
                ], "Service State"), 'get_service_state')
    report_region = fields.Many2One('elder.region', "Report Region",
        help="The region whose monthly report the schedule generates "
        "(empty: every league/city with data).")

    @classmethod
    def default_sync_interval(cls):
        return 10

    @classmethod
    def default_lag_alert(cls):
        return 300

    def get_service_state(self, name):
        if not self.service_url:
            return 'none'
        if (self.service_heartbeat and dt.datetime.utcnow()
                - self.service_heartbeat
                < dt.timedelta(seconds=max(self.lag_alert or 300, 60))):
            return 'running'
        return 'stale'

    @classmethod
    def register_service(cls, url, token, pid):
        config = cls(1)
        config.service_url = url
        config.service_token = token
        config.service_pid = pid
        config.save()

    @classmethod
    def heartbeat(cls):
        config = cls(1)
        config.service_heartbeat = dt.datetime.utcnow()
        config.save()

    @classmethod
    def get_store(cls):
        "The analytics store for this process (raises StoreError)"
        config = cls(1)
        try:
            return get_store(config.service_url, config.service_token)
        except StoreUnavailable:
            raise StoreError(gettext('elder_bi.msg_store_unavailable'))

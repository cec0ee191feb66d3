"""Device bridge: protocol adapters → normalised events → elder_device.

``bridge.event`` is elder_device's event module
(addons/elder_device/event.py: parse_time, kind_of, ALARM_FLAGS, the
exception Malformed …), shared with the module's HTTP receivers. It is
loaded from its file, not imported through the package
trytond.modules.elder_device: that package's __init__ registers the HTTP
routes on trytond.wsgi.app, and importing trytond.wsgi imports
trytond.backend, which chooses its backend from trytond's configuration at
import time, before the bridge has read its --config. The module is
registered in sys.modules under its package name, so the receivers that
trytond imports later in the same process get this same module object
(the same Malformed class) instead of a second copy."""
import importlib.util
import sys
from pathlib import Path

EVENT_MODULE = 'trytond.modules.elder_device.event'


def _load_event():
    module = sys.modules.get(EVENT_MODULE)
    if module is not None:
        return module
    path = None
    try:
        # Imports trytond.modules (light: no backend), not elder_device
        spec = importlib.util.find_spec('trytond.modules.elder_device')
    except ImportError:
        spec = None
    if spec is not None and spec.submodule_search_locations:
        path = Path(list(spec.submodule_search_locations)[0]) / 'event.py'
    if path is None or not path.exists():
        # a checkout where elder_device is not installed
        path = Path(__file__).resolve().parent.parent / 'addons' \
            / 'elder_device' / 'event.py'
    spec = importlib.util.spec_from_file_location(EVENT_MODULE, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[EVENT_MODULE] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        del sys.modules[EVENT_MODULE]
        raise
    return module


event = _load_event()

# This file is part of the eldercare platform. See LICENSE.
"The one interface of the CTI adapters: normalised call events."
import dataclasses

KINDS = ('offered', 'ringing', 'answered', 'transferred', 'hangup', 'failed')


class MalformedEvent(ValueError):
    "A frame or event that cannot be read"


@dataclasses.dataclass
class CallEvent:
    """A call state change, whatever the switch.

    source + event_id is unique (idempotency); call_id groups the events
    of one call; time is a UNIX timestamp (float seconds)."""
    source: str
    event_id: str
    call_id: str
    kind: str
    time: float
    direction: str = 'inbound'
    caller: str = ''
    callee: str = ''
    seat: str = ''
    queue: str = ''
    code: int = None
    reason: str = ''
    target: str = ''
    final: bool = True
    recording: str = ''
    position: tuple = None

    def as_dict(self):
        data = dataclasses.asdict(self)
        data.pop('position')
        return data

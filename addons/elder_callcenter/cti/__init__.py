# This file is part of the eldercare platform. See LICENSE.
"""CTI adapters: telephony events -> normalised call events -> call records.

Every adapter turns its switch's events into the same dictionaries
(``base.CallEvent``) with ``kind`` one of offered, ringing, answered,
transferred, hangup, failed; ``store.TrytonStore`` writes them through
``call.call.ingest`` (idempotent on source + event id). Adapters:

- ``kamailio.EvapiAdapter``: Kamailio's evapi event socket (netstrings of
  JSON produced by deploy/kamailio/kamailio.cfg), the reference;
- ``ami.AmiParser`` / ``ami.AmiAdapter``: Asterisk Manager Interface;
- ``esl.EslParser`` / ``esl.EslAdapter``: FreeSWITCH event socket.

Run: ``python -m trytond.modules.elder_callcenter.cti run --database DB``.
"""

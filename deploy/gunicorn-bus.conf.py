# Gunicorn for trytond's bus alone (live notifications to sao, [bus]):
#   gunicorn -c deploy/gunicorn-bus.conf.py trytond.application:app
# with the same TRYTOND_CONFIG and TRYTOND_DATABASE_NAMES as the main server.
# The reverse proxy sends `POST /<database>/bus` here and everything else to
# the main server (deploy/gunicorn.conf.py with ELDER_THREADS=2). Each open
# sao tab holds one request here for up to [bus] long_polling_timeout
# seconds, asleep: one process with a thread per open tab.
import os

bind = os.environ.get('ELDER_BUS_BIND', '127.0.0.1:8001')
workers = 1
worker_class = 'gthread'
threads = int(os.environ.get('ELDER_BUS_THREADS', 1000))
preload_app = True
timeout = 600  # threads idle on long polls; gthread's heartbeat is per worker
graceful_timeout = 30
forwarded_allow_ips = '127.0.0.1'
accesslog = os.environ.get('ELDER_ACCESS_LOG') or None
errorlog = '-'
control_socket_disable = True

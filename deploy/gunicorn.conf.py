# Gunicorn settings for trytond: gunicorn -c deploy/gunicorn.conf.py trytond.application:app
# with TRYTOND_CONFIG=<trytond config> and TRYTOND_DATABASE_NAMES=<database[,database]>.
# `./elder.sh run` uses this file too, overriding bind and workers on the command line.
import multiprocessing
import os

bind = os.environ.get('ELDER_BIND', '127.0.0.1:8000')  # behind a reverse proxy
# Each worker holds its own pool of every database in memory (~100-300 MB).
workers = int(os.environ.get('WEB_CONCURRENCY', multiprocessing.cpu_count() * 2 + 1))
# Threads: every open sao tab keeps one request waiting on the bus (long
# polling, [bus] long_polling_timeout), which would block a sync worker. In
# production the bus goes to its own server (deploy/gunicorn-bus.conf.py,
# routed by the reverse proxy) and this one runs ELDER_THREADS=2 with
# WEB_CONCURRENCY=cores+1: threads of one process share the GIL, and 8 of
# them cost ~50 % more CPU per request under load (bench/perf/README.md).
worker_class = 'gthread'
threads = int(os.environ.get('ELDER_THREADS', 8))
# trytond.application loads the pools of TRYTOND_DATABASE_NAMES at import and
# closes its connections, so loading it once in the master before forking is
# safe and makes workers start ready (no KeyError 'res.user' on first login).
preload_app = True
# Longer than trytond's [request] timeout (60 s) so trytond answers first.
timeout = 90
graceful_timeout = 30
# Recycle workers now and then to bound memory growth.
max_requests = 2000
max_requests_jitter = 200
# Trust X-Forwarded-* only from the local reverse proxy; set [web] num_proxies too.
forwarded_allow_ips = '127.0.0.1'
accesslog = os.environ.get('ELDER_ACCESS_LOG') or None
errorlog = '-'
# gunicorn >= 25 opens a control socket at ~/.gunicorn/gunicorn.ctl, shared by
# every instance of the same user (the run server, the test server); unused.
control_socket_disable = True

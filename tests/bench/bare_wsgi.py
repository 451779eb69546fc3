"""A WSGI application that answers every request with the same small JSON body and does
nothing else: served by gunicorn with the site's settings, it measures what gunicorn itself
(HTTP parsing, threads, sockets) and wrk cost per request on this machine, the ceiling for
any request through Django."""

BODY = b'{"statement": "kazakhstan-2022", "individuals": 990000, "organisations": 10000}'
HEADERS = [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]


def application(environ, start_response):
    start_response("200 OK", HEADERS)
    return [BODY]

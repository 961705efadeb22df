"""The hub's proxy: PyPI's pure-Python configurable-http-proxy, with room for a district.

It forwards through tornado's AsyncHTTPClient, whose default is 10 requests at a time; the
rest wait in a queue and are dropped with HTTP 503 after 20 s. Measured here: with 30
workers logging in at once, the 4th got a 503. One connection slot per concurrent request
is what a proxy needs, so this raises the limit before starting it.
"""
from __future__ import annotations

import sys

MAX_CLIENTS = 2000   # several requests per worker (page, API, kernels) for 350 workers


def main() -> int:
    from configurable_http_proxy.cli import main as chp
    from tornado.httpclient import AsyncHTTPClient

    AsyncHTTPClient.configure(None, max_clients=MAX_CLIENTS)
    sys.argv[0] = "configurable-http-proxy"
    return chp()


if __name__ == "__main__":
    sys.exit(main())

"""The JupyterHub configuration of the district server (jupyterhub_config.py calls apply)."""
from __future__ import annotations

from .layout import Layout
from .server import TEMPLATES


def apply(c, layout: Layout) -> None:
    c.JupyterHub.ip = layout.ip
    c.JupyterHub.port = layout.port
    # the hub's own API and the proxy's API on the next two ports: several hubs on one machine
    c.JupyterHub.hub_port = layout.port + 1
    c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{layout.port + 2}"
    c.JupyterHub.db_url = layout.db_url
    c.JupyterHub.cookie_secret_file = str(layout.private / "jupyterhub_cookie_secret")
    c.JupyterHub.pid_file = str(layout.pid_file)
    c.JupyterHub.template_paths = [str(TEMPLATES)]
    # the pure-Python configurable-http-proxy from PyPI (no node needed), with room for
    # hundreds of requests at once (shequ.hub.proxy)
    c.ConfigurableHTTPProxy.command = [str(layout.bin / "python"), "-m", "shequ.hub.proxy",
                                       # a busy hub may take longer than tornado's 20 s default
                                       "--timeout=120000", "--proxy-timeout=120000"]
    c.ConfigurableHTTPProxy.pid_file = str(layout.private / "proxy.pid")
    c.JupyterHub.cleanup_servers = True

    c.JupyterHub.authenticator_class = "shequ.hub.auth.ShequAuthenticator"
    c.NativeAuthenticator.enable_signup = False        # accounts come from the roster only
    c.NativeAuthenticator.open_signup = False
    c.NativeAuthenticator.minimum_password_length = 8
    c.NativeAuthenticator.check_common_password = True
    c.NativeAuthenticator.allowed_failed_logins = 5
    c.NativeAuthenticator.seconds_before_next_try = 120
    # nativeauthenticator lets in only authorized users_info rows, which only `hub users sync` writes
    c.Authenticator.allow_all = True

    c.JupyterHub.spawner_class = "shequ.hub.spawner.ShequSpawner"
    c.Spawner.cmd = [str(layout.bin / "jupyterhub-singleuser")]
    c.Spawner.start_timeout = 120
    c.Spawner.http_timeout = 90
    c.Spawner.default_url = "/shequ"

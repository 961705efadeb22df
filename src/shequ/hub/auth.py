"""nativeauthenticator, with the password check off the hub's event loop.

nativeauthenticator checks the bcrypt hash inside the hub's only event loop: ~0.3 s here
per login during which the hub answers nobody. At an exam's start 350 workers log in
within minutes; so the hash is checked in a thread (bcrypt releases the GIL) and the rest
(the user row, the failed-login count) stays as nativeauthenticator does it.
"""
from __future__ import annotations

import asyncio

import bcrypt
from nativeauthenticator import NativeAuthenticator


class ShequAuthenticator(NativeAuthenticator):
    async def authenticate(self, handler, data):
        username = self.normalize_username(data.get("username", ""))
        password = data.get("password", "")
        user = self.get_user(username)
        if not user or (self.allowed_failed_logins and self.is_blocked(username)):
            return None
        stored = user.password
        ok = await asyncio.get_running_loop().run_in_executor(
            None, lambda: bcrypt.checkpw(password.encode(), stored))
        if ok and user.is_authorized:
            self.successful_login(username)
            return username
        self.add_login_attempt(username)
        return None

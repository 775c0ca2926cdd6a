"""A logged-in admin browser, reduced to urllib with a cookie jar and Django's CSRF token."""

from __future__ import annotations

import http.cookiejar
import re
import urllib.parse
import urllib.request

_CSRF_INPUT = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')
TIMEOUT_SECONDS = 30


class AdminSession:
    """Blocking HTTP calls: run them with asyncio.to_thread from async tests."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self._opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()),
            urllib.request.ProxyHandler({}),  # loopback only, whatever the environment says
        )
        self._csrf = ""

    def get(self, path: str) -> str:
        with self._opener.open(self.base_url + path, timeout=TIMEOUT_SECONDS) as response:
            html: str = response.read().decode()
        token = _CSRF_INPUT.search(html)
        if token:
            self._csrf = token.group(1)
        return html

    def post(self, path: str, fields: dict[str, str]) -> str:
        """POST a form from the last page fetched; returns the page redirected to."""
        data = urllib.parse.urlencode({"csrfmiddlewaretoken": self._csrf, **fields}).encode()
        with self._opener.open(self.base_url + path, data, timeout=TIMEOUT_SECONDS) as response:
            return str(response.read().decode())

    def login(self, username: str, password: str) -> None:
        self.get("/admin/login/")
        page = self.post("/admin/login/?next=/admin/", {"username": username, "password": password})
        if "Log out" not in page and "logout" not in page:
            raise AssertionError("admin login failed")

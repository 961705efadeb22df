"""The hub's pages in Chinese (src/shequ/hub/templates, c.JupyterHub.template_paths).

Each page is rendered the way JupyterHub 5.5 renders it: its own jinja loader with our folder
first, nativeauthenticator's folder appended after, autoescape on, and the namespace its handler
passes (BaseHandler.template_namespace plus the page's own values). The tests check that every
page renders, that nothing English is left in what a worker sees, that the English messages of
the hub and nativeauthenticator come out in Chinese, and that each page keeps the stock page's
form fields, form actions, element ids and scripts. One slow test opens pages in headless
Chromium to check the scripts that put Chinese over what the hub's own JavaScript writes.
"""
from __future__ import annotations

import asyncio
import importlib
import inspect
import json
import mimetypes
import os
import re
from datetime import datetime, timedelta, timezone
from html.parser import HTMLParser
from pathlib import Path
from types import SimpleNamespace

import pytest
from jinja2 import ChoiceLoader, Environment, FileSystemLoader, PrefixLoader

from shequ import paths


def _need(module: str):
    # jupyterhub and nativeauthenticator are the hub's packages, not the project's own
    # dependencies: skip where they are missing, but never in CI (as the browser tests do)
    try:
        return importlib.import_module(module)
    except ImportError:
        msg = f"没有 {module}：这些测试需要 jupyterhub 5.5 与 jupyterhub-nativeauthenticator 1.3"
        if os.environ.get("CI", "").lower() == "true":
            raise
        pytest.skip(msg, allow_module_level=True)


_need("jupyterhub")
native_handlers = _need("nativeauthenticator.handlers")
from jupyterhub._data import DATA_FILES_PATH  # noqa: E402
from jupyterhub.scopes import describe_raw_scopes  # noqa: E402

STOCK = Path(DATA_FILES_PATH) / "templates"
STATIC = Path(DATA_FILES_PATH) / "static"
NATIVE = Path(native_handlers.TEMPLATE_DIR)
XSRF = "2|8c1d6a0e|5f3b9e0c1d2a|1735689600"

# The only ASCII words a worker may see, each for a reason:
ALLOWED = {
    "JavaScript",  # <noscript>: the browser setting to switch on is called that in Chinese browsers too
}


# --- the hub's jinja environment -------------------------------------------------------------

def hub_env(ours: bool = True, sync: bool = False) -> Environment:
    """As JupyterHub.init_tornado_settings builds it (jupyterhub/app.py): "templates/x" always
    reaches the stock folder, then template_paths with the stock folder appended. Then
    nativeauthenticator's LocalBase wraps it: ChoiceLoader([hub's loader, its own folder]).
    write_error renders error pages with a sync twin of the same environment."""
    template_paths = ([str(paths.HUB_TEMPLATES)] if ours else []) + [str(STOCK)]
    hub = ChoiceLoader([PrefixLoader({"templates": FileSystemLoader([str(STOCK)])}, "/"),
                        FileSystemLoader(template_paths)])
    return Environment(loader=ChoiceLoader([hub, FileSystemLoader([str(NATIVE)])]),
                       autoescape=True, enable_async=not sync)


ENVS = {(ours, sync): hub_env(ours, sync) for ours in (True, False) for sync in (True, False)}


def static_url(path, include_host=None, include_version=True):
    # tornado's RequestHandler.static_url, the one callable the templates get
    return f"/hub/static/{path}" + ("?v=0a1b2c3d" if include_version else "")


def make_user(name="w0001", admin=False, active=False, named=()):
    """The bits of jupyterhub.user.User the templates read."""
    default = SimpleNamespace(name="", active=active, ready=active, pending=None, options_form=None,
                              last_activity=None)
    return SimpleNamespace(
        name=name, json_escaped_name=json.dumps(name)[1:-1], admin=admin, active=active,
        spawner=default,
        all_spawners=lambda include_default=True: iter(([default] if include_default else []) + list(named)),
        server_url=lambda server_name="": f"/user/{name}/{server_name}/" if server_name else f"/user/{name}/",
    )


def namespace(user) -> dict:
    """BaseHandler.template_namespace plus render_template's xsrf_token (jupyterhub/handlers/base.py)."""
    scopes = {"access:servers": {"user": {user.name}}} if user else {}
    if user and user.admin:
        scopes["admin-ui"] = True
    return dict(base_url="/hub/", prefix="/", user=user, login_url="/hub/login", login_service="",
                logout_url="/hub/logout", static_url=static_url, version_hash="20250101000000",
                services=[], parsed_scopes=scopes, expanded_scopes=set(scopes), xsrf=XSRF, xsrf_token=XSRF)


def render(name: str, ours: bool = True, sync: bool = False, **page) -> str:
    ns = namespace(page.pop("user", None)) | page
    template = ENVS[(ours, sync)].get_template(name)
    return template.render(**ns) if sync else asyncio.run(template.render_async(**ns))


# --- each page with the values its handler passes ---------------------------------------------

WORKER = make_user()
RUNNING = make_user(active=True)
TRAINER = make_user("t01", admin=True)
NOW = datetime.now(timezone.utc).replace(tzinfo=None)
NAMED = (SimpleNamespace(name="lx1", active=True, ready=True, pending=None, options_form=None,
                         last_activity=NOW - timedelta(minutes=5)),
         SimpleNamespace(name="ks2", active=False, ready=False, pending=None, options_form=None,
                         last_activity=None))
WITH_NAMED = make_user(active=True, named=NAMED)


def native_login(**kw):
    # nativeauthenticator LoginHandler._render
    return dict(next="", username=None, login_error=None, custom_html="", login_url="/hub/login",
                enable_signup=False, two_factor_auth=False, authenticator_login_url="/hub/login?next=") | kw


def hub_login(**kw):
    # jupyterhub LoginHandler._render (used if the hub ever runs without nativeauthenticator)
    authenticator = SimpleNamespace(request_otp=False, otp_prompt="OTP:")
    return dict(next="", username="", login_error=None, login_url="/hub/login",
                authenticator_login_url="/hub/login?next=", authenticator=authenticator, xsrf=XSRF,
                custom_html="") | kw


def home(user, named=False):
    # HomeHandler.get
    url = f"/user/{user.name}" if user.active else f"/hub/spawn/{user.name}"
    return dict(user=user, url=url, allow_named_servers=named, named_server_limit_per_user=3 if named else 0,
                url_path_join=lambda *a: "/".join(a), spawners={}, default_server=user.spawner, auth_state=None)


def pending(user):
    # SpawnPendingHandler.get
    return dict(user=user, spawner=user.spawner, auth_state=None,
                progress_url=f"/hub/api/users/{user.name}/server/progress?_xsrf={XSRF}")


def not_running(**kw):
    return dict(user=WORKER, auth_state=None, server_name="", spawn_url="/hub/spawn/w0001") | kw


def error(code, **kw):
    # BaseHandler.write_error (status_message is tornado's English reason phrase)
    reasons = {403: "Forbidden", 404: "Not Found", 500: "Internal Server Error", 503: "Service Unavailable",
               418: "I'm a Teapot"}
    return dict(user=WORKER, status_code=code, status_message=reasons[code], message="", message_html="",
                extra_error_html="", exception=None) | kw


def token_options(max_seconds=0):
    """TokenPageHandler.get's <option> list, built as it builds it (English labels)."""
    options = [(3600, "1 Hour"), (86400, "1 Day"), (7 * 86400, "1 Week"), (30 * 86400, "1 Month"),
               (365 * 86400, "1 Year")]
    if max_seconds:
        options = [o for o in options if o[0] <= max_seconds]
        if max_seconds not in (s for s, _ in options):
            hours = max_seconds / 3600
            label = f"{hours:.0f} hours" if hours / 24 < 3 else f"{hours / 24:.0f} days"
            options.append(("", f"Max ({label})"))
    else:
        options.append(("", "Never"))
    html = [f'<option value="{value}">{label}</option>' for value, label in options]
    html[-1] = html[-1].replace("<option ", '<option selected="selected"')
    return "\n".join(html)


def token_page(max_seconds=0):
    made = NOW - timedelta(days=2)
    # notes as the hub (jupyterhub/user.py) and static/js/token.js write them, and one of the worker's
    tokens = [SimpleNamespace(api_id=f"a{i}", note=note, scopes=["access:servers!user"], last_activity=None,
                              created=made, expires_at=made + timedelta(days=7))
              for i, note in enumerate(["Server at /user/w0001/", "Requested via token page", "第二课练习用"])]
    client = {"token_id": "o7", "description": "Server at /user/w0001/", "last_activity": NOW, "created": made,
              "tokens": [SimpleNamespace(scopes=["access:servers!server=w0001/"])]}
    return dict(user=WORKER, api_tokens=tokens, oauth_clients=[client], auth_state=None,
                token_expires_in_options_html=token_options(max_seconds), token_expires_in_max_seconds=max_seconds)


def spawn_form(**kw):
    # SpawnHandler._render_form; the options form is the hub's config (Spawner.options_form)
    return dict(user=WORKER, for_user=WORKER, auth_state=None, spawner=WORKER.spawner,
                spawner_options_form='<label>课程<select name="course"><option>第一课</option></select></label>',
                error_message="", html_error_message="", url=f"/hub/spawn/w0001?_xsrf={XSRF}") | kw


def oauth_page():
    client = SimpleNamespace(description="培训课程服务", redirect_uri="/services/kecheng/oauth_callback")
    identify = [{"scope": None, "description": "Identify the owner of the requesting entity.", "filter": ""}]
    return dict(user=WORKER, auth_state=None, allowed_scopes=[], scope_descriptions=identify, oauth_client=client)


def share_page(ready=False):
    owner = make_user("w0002")
    return dict(user=WORKER, code="sc_9f", owner=owner, spawner=SimpleNamespace(name="lx1"),
                spawner_ready=ready, spawner_url="/user/w0002/lx1/",
                scope_descriptions=describe_raw_scopes(["access:servers!server=w0002/lx1"], "w0001"),
                next_url="/user/w0002/lx1/")


# the English result messages, as nativeauthenticator/handlers.py writes them
WRONG_CURRENT = "Your current password was incorrect. Please try again."
NO_MATCH = "Your new password didn't match the confirmation. Please try again."
CHANGED = "Your password has been changed successfully!"


def too_weak(minimum):
    return ("Something went wrong!\nBe sure your new password has at least"
            f" {minimum} characters and is not too common.")


# (template, the handler's values, rendered sync as write_error does); the pages a worker meets
WORKER_PAGES = {
    "base-layout": ("page.html", dict(user=WORKER), False),
    "login": ("native-login.html", native_login(), False),
    "login-wrong-password": ("native-login.html",
                             native_login(login_error="Invalid username or password.", username="w0001"), False),
    "login-not-yet-authorized": ("native-login.html", native_login(
        login_error="User w0001 has not been authorized by an administrator yet.", username="w0001"), False),
    "login-with-2fa": ("native-login.html", native_login(two_factor_auth=True), False),
    "hub-login": ("login.html", hub_login(), False),
    "hub-login-wrong-password": ("login.html", hub_login(login_error="Invalid username or password",
                                                         username="w0001"), False),
    "change-password": ("change-password.html", dict(user=WORKER, user_name="w0001"), False),
    **{f"change-password-{key}": ("change-password.html",
                                  dict(user=WORKER, user_name="w0001", result_message=msg, alert=alert), False)
       for key, msg, alert in [("wrong-current", WRONG_CURRENT, "alert-danger"),
                               ("no-match", NO_MATCH, "alert-danger"),
                               ("changed", CHANGED, "alert-success"),
                               ("too-weak", too_weak(8), "alert-danger")]},
    "home-stopped": ("home.html", home(WORKER), False),
    "home-running": ("home.html", home(RUNNING), False),
    "home-named-servers": ("home.html", home(WITH_NAMED, named=True), False),
    "spawn-pending": ("spawn_pending.html", pending(WORKER), False),
    "not-running": ("not_running.html", not_running(), False),
    "not-running-restarts-itself": ("not_running.html", not_running(implicit_spawn_seconds=5), False),
    # the failure text comes from the spawner; a Chinese stand-in here
    "not-running-failed": ("not_running.html", not_running(failed=True, failed_message="磁盘空间不足",
                                                           failed_html_message=""), False),
    "stop-pending": ("stop_pending.html", pending(RUNNING), False),
    "logout": ("logout.html", dict(user=None), False),
    **{f"error-{code}": ("error.html", error(code), True) for code in (403, 404, 500, 503)},
    "error-not-logged-in": ("error.html", error(403, user=None), True),
    "404": ("404.html", error(404), True),
}
# trainers' and rarer pages: the same checks, with Chinese stand-ins for config-supplied text
OTHER_PAGES = {
    "change-password-admin": ("change-password-admin.html", dict(user=TRAINER, user_name="w0001"), False),
    "change-password-admin-done": ("change-password-admin.html", dict(
        user=TRAINER, user_name="w0001", alert="alert-success",
        result_message="The password for w0001 has been changed successfully"), False),
    "token": ("token.html", token_page(), False),
    "token-with-max-expiry": ("token.html", token_page(max_seconds=10 * 86400), False),
    "spawn-options": ("spawn.html", spawn_form(), False),
    "spawn-options-error": ("spawn.html", spawn_form(error_message="请选择课程"), False),
    "authorization-area": ("authorization-area.html", dict(user=TRAINER, ask_email=False, users=[
        SimpleNamespace(username="w0001", is_authorized=True, has_2fa=False, email=""),
        SimpleNamespace(username="w0002", is_authorized=False, has_2fa=False, email="")]), False),
    "oauth": ("oauth.html", oauth_page(), False),
    "accept-share": ("accept-share.html", share_page(), False),
    "accept-share-running": ("accept-share.html", share_page(ready=True), False),
}
PAGES = WORKER_PAGES | OTHER_PAGES


def page(scenario: str, ours: bool = True) -> str:
    name, values, sync = PAGES[scenario]
    return render(name, ours=ours, sync=sync, **values)


# --- reading a rendered page ------------------------------------------------------------------

class _Visible(HTMLParser):
    """What a person can see or hear: text outside <script>/<style> (the <title> and <noscript>
    included) and the attributes browsers and screen readers show. <pre>/<code> hold code shown
    as code (the token page's scope names, which the 权限 field takes as they are)."""
    SHOWN = {"title", "placeholder", "alt", "aria-label"}
    CODE = ("script", "style", "pre", "code")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in self.CODE:
            self.hidden += 1
        self.parts += [v for k, v in attrs if k in self.SHOWN and v]
        if tag == "input" and a.get("type") in ("submit", "button", "reset") and a.get("value"):
            self.parts.append(a["value"])

    def handle_endtag(self, tag):
        if tag in self.CODE:
            self.hidden -= 1

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def visible(html: str) -> str:
    p = _Visible()
    p.feed(html)
    return re.sub(r"\s+", " ", " ".join(p.parts)).strip()


class _Structure(HTMLParser):
    """The parts a page's behaviour hangs on."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.forms, self.fields, self.ids, self.script_src, self.script_lines = [], set(), set(), [], set()
        self.hooks = set()   # classes and data- attributes: what the hub's scripts select on
        self.in_script = False

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if "id" in a:
            self.ids.add(a["id"])
        self.hooks |= {f".{c}" for c in (a.get("class") or "").split()}
        self.hooks |= {f"[{k}={v}]" for k, v in attrs if k.startswith("data-")}
        if tag == "form":
            self.forms.append((a.get("action"), a.get("method")))
        if tag in ("input", "select", "textarea", "button") and a.get("name"):
            hidden = a.get("type") == "hidden"
            self.fields.add((tag, a["name"], a.get("type"), a.get("value") if hidden else None))
        if tag == "script":
            self.in_script = True
            if a.get("src"):
                self.script_src.append(a["src"])

    def handle_endtag(self, tag):
        if tag == "script":
            self.in_script = False

    def handle_data(self, data):
        if self.in_script:
            self.script_lines |= {ln.strip() for ln in data.splitlines()
                                  if ln.strip() and not ln.strip().startswith("//")}


def structure(html: str) -> _Structure:
    s = _Structure()
    s.feed(html)
    return s


def english_words(text: str) -> list[str]:
    # an address shown as a link's text (/user/w0001/) is a URL, not words to translate
    text = re.sub(r"(?:https?:/)?/\S*", " ", text)
    return sorted(set(re.findall(r"[A-Za-z]{4,}", text)) - ALLOWED)


# --- (a) and (b): every page renders, and nothing English is left ------------------------------

@pytest.mark.parametrize("scenario", sorted(WORKER_PAGES))
def test_worker_page_renders_with_no_english_left(scenario):
    html = page(scenario)
    assert '<html lang="zh-CN">' in html
    text = visible(html)
    assert re.search(r"[\u4e00-\u9fff]", text), f"{scenario}：页面上没有中文"
    assert english_words(text) == [], f"{scenario}：页面上还有英文：{english_words(text)}\n{text}"


@pytest.mark.parametrize("scenario", sorted(OTHER_PAGES))
def test_trainer_and_rare_pages_render_with_no_english_left(scenario):
    text = visible(page(scenario))
    assert english_words(text) == [], f"{scenario}：页面上还有英文：{english_words(text)}\n{text}"


def test_the_admin_page_stays_stock_but_renders_in_our_layout():
    # admin.html is the hub's React app (English, trainers only): only its frame is ours
    html = render("admin.html", user=TRAINER, current_user=TRAINER, auth_state=None, admin_access=True,
                  allow_named_servers=False, named_server_limit_per_user=0,
                  server_version="5.5.4 20250101000000", api_page_limit=50)
    assert 'id="react-admin-hook"' in html and "管理" in visible(html)


# --- every page keeps what the stock page's behaviour needs ------------------------------------

@pytest.mark.parametrize("scenario", sorted(PAGES))
def test_page_keeps_the_stock_forms_fields_ids_and_scripts(scenario):
    ours, stock = structure(page(scenario)), structure(page(scenario, ours=False))
    assert ours.forms == stock.forms
    assert stock.fields <= ours.fields, f"少了表单字段：{stock.fields - ours.fields}"
    assert stock.ids <= ours.ids, f"少了元素 id：{stock.ids - ours.ids}"
    assert stock.hooks <= ours.hooks, f"少了 class 或 data- 属性：{stock.hooks - ours.hooks}"
    assert ours.script_src == stock.script_src
    assert stock.script_lines <= ours.script_lines, f"少了脚本：{stock.script_lines - ours.script_lines}"


@pytest.mark.parametrize("scenario", ["login", "hub-login", "change-password", "change-password-admin",
                                      "oauth", "accept-share"])
def test_forms_still_send_the_xsrf_token(scenario):
    assert ("input", "_xsrf", "hidden", XSRF) in structure(page(scenario)).fields


def test_the_upstream_pages_are_the_versions_these_overrides_were_written_for():
    # a jupyterhub or nativeauthenticator upgrade changes these; then diff the stock templates
    # against src/shequ/hub/templates and carry the changes over
    from jupyterhub import __version__ as hub_version
    from importlib.metadata import version
    assert hub_version == "5.5.4"
    assert version("jupyterhub-nativeauthenticator") == "1.3.0"


# --- the navigation bar and the announcement --------------------------------------------------

def test_nav_bar_shows_chinese_labels_and_a_change_password_link():
    s = visible(page("home-stopped"))
    html = page("home-stopped")
    for label in ("首页", "令牌", "修改密码", "退出"):
        assert label in s
    assert 'href="/hub/change-password"' in html and 'href="/hub/home"' in html and 'href="/hub/token"' in html
    assert "管理" not in s and "账号审核" not in s   # a worker has no admin-ui scope


def test_nav_bar_shows_admin_links_to_trainers():
    html = render("home.html", **home(TRAINER))
    assert ">管理</a>" in html and 'href="/hub/admin"' in html
    assert ">账号审核</a>" in html and 'href="/hub/authorize"' in html


def test_logged_out_pages_show_a_chinese_login_button():
    assert ">登录</a>" in page("logout")


@pytest.mark.parametrize("template,key", [("home.html", "announcement_home"), ("page.html", "announcement"),
                                          ("native-login.html", "announcement_login"),
                                          ("logout.html", "announcement_logout")])
def test_announcement_area_still_shows_the_hubs_announcement(template, key):
    values = PAGES[{"home.html": "home-stopped", "page.html": "base-layout", "native-login.html": "login",
                    "logout.html": "logout"}[template]][1]
    html = render(template, **values, **{key: "周六 9:00–12:00 系统维护，<b>暂停使用</b>"})
    assert 'announcement alert alert-warning">周六 9:00–12:00 系统维护，<b>暂停使用</b></div>' in html


def test_the_error_dialog_keeps_the_id_the_hubs_scripts_look_for():
    html = page("home-running")
    assert 'id="error-dialog"' in html and ">出错了</h2>" in html and ">确定</button>" in html


# --- (c) the English messages, in Chinese -----------------------------------------------------

@pytest.mark.parametrize("scenario", ["login-wrong-password", "hub-login-wrong-password"])
def test_login_page_shows_wrong_password_in_chinese(scenario):
    html = page(scenario)
    assert '<p class="login_error">' in html and "工号或密码错误。" in visible(html)
    assert "Invalid" not in html


def test_login_page_shows_an_unapproved_account_in_chinese():
    html = page("login-not-yet-authorized")
    assert "该账号尚未启用，请联系培训老师。" in visible(html) and "authorized" not in html


def test_login_page_shows_an_expired_form_in_chinese():
    # the hub's own XSRF message on the login form (jupyterhub/handlers/login.py)
    html = render("native-login.html", **native_login(login_error="Login form invalid or expired. Try again."))
    assert "登录页面已过期，请重新登录。" in visible(html)


def test_login_page_shows_an_unknown_message_as_it_came_and_escaped():
    html = render("native-login.html", **native_login(login_error="账号已锁定 <b>10 分钟</b>"))
    assert "账号已锁定 &lt;b&gt;10 分钟&lt;/b&gt;" in html


def test_login_page_keeps_the_worker_id_after_a_failed_login():
    assert 'name="username" value="w0001"' in page("login-wrong-password")
    assert 'name="username" value=""' in page("login")   # never the text "None"


def test_login_page_has_no_signup_link_and_explains_the_first_password():
    html = page("login")
    assert "/hub/signup" not in html
    text = visible(html)
    assert "首次登录请使用街道发放的初始密码，登录后请修改密码。忘记密码请联系培训老师。" in text
    for label in ("工号", "密码", "登录"):
        assert label in text


@pytest.mark.parametrize("message,chinese", [
    (WRONG_CURRENT, "当前密码不正确，请重试。"),
    (NO_MATCH, "两次输入的新密码不一致，请重试。"),
    (CHANGED, "密码已修改。"),
    (too_weak(8), "新密码不符合要求：至少 8 位，且不能是常见密码。"),
    (too_weak(12), "新密码不符合要求：至少 12 位，且不能是常见密码。"),   # the configured length
    ("Something went wrong!\nBe sure your new password is not too common.", "新密码不符合要求：不能是常见密码。"),
])
def test_change_password_page_shows_each_result_in_chinese(message, chinese):
    html = render("change-password.html", user=WORKER, user_name="w0001", result_message=message,
                  alert="alert-danger")
    assert f'<div class="alert alert-danger col-xs-6" role="alert">{chinese}</div>' in html


def test_change_password_page_labels_and_fields():
    html = page("change-password")
    for label in ("当前密码", "新密码", "确认新密码", "修改密码"):
        assert label in visible(html)
    for field in ("old_password", "new_password", "new_password_confirmation"):
        assert f'name="{field}"' in html


@pytest.mark.parametrize("message,chinese", [
    ("The new password didn't match the confirmation. Please try again.", "两次输入的新密码不一致，请重试。"),
    ("The password for w0001 has been changed successfully", "已修改 w0001 的密码。"),
    ("Something went wrong!\nBe sure the new password for w0001 has at least 8 characters and is not too common.",
     "新密码不符合要求：至少 8 位，且不能是常见密码。"),
])
def test_admin_password_reset_shows_each_result_in_chinese(message, chinese):
    html = render("change-password-admin.html", user=TRAINER, user_name="w0001", result_message=message,
                  alert="alert-danger")
    assert f'role="alert">{chinese}</div>' in html


def test_the_mapped_messages_are_still_the_ones_upstream_sends():
    # the tables key on exact English text: fail loudly if an upgrade rewords it
    native = inspect.getsource(native_handlers)
    for text in ('"Invalid username or password."', '"by an administrator yet."', WRONG_CURRENT, CHANGED,
                 "Your new password didn't match the confirmation. Please try again.",
                 "The new password didn't match the confirmation. Please try again.",
                 '"Something went wrong!\\n"', '"Be sure your new password has at least"',
                 'f"The password for {user_name} has been changed successfully"'):
        assert text in native, text
    from jupyterhub.handlers import login, pages
    assert "login_error='Invalid username or password'" in inspect.getsource(login)
    assert '"Login form invalid or expired. Try again."' in inspect.getsource(login)
    assert '"Your server appears to be down."' in inspect.getsource(pages)


@pytest.mark.parametrize("code,heading", [(403, "403：没有权限"), (404, "404：页面不存在"),
                                          (500, "500：服务器内部错误"), (503, "503：服务暂不可用"),
                                          (418, "418：出错了")])
def test_error_page_heading_is_chinese_for_the_status(code, heading):
    html = render("error.html", sync=True, **error(code))
    assert f"<h1>{heading}</h1>" in html
    assert '<a href="/hub/home">返回首页</a>' in html


def test_error_page_shows_the_hubs_message_as_it_came():
    html = render("error.html", sync=True, **error(403, message="Action is not authorized with current scopes"))
    assert "<p>Action is not authorized with current scopes</p>" in html


def test_proxy_503_page_tells_the_worker_to_restart_from_home():
    # ProxyErrorHandler.get builds this message_html (jupyterhub/handlers/pages.py)
    message_html = "Your server appears to be down. Try restarting it <a href='/hub/home'>from the hub</a>"
    html = render("error.html", **error(503, message_html=message_html, logo_url="/hub/home"))
    assert "你的工作区好像已经停止了。" in visible(html) and english_words(visible(html)) == []


def test_home_page_buttons_follow_the_server_state():
    stopped, running = visible(page("home-stopped")), visible(page("home-running"))
    assert "开始我的工作区" in stopped and "停止我的工作区" not in stopped
    assert "进入我的工作区" in running and "停止我的工作区" in running


def test_token_page_shows_expiry_choices_in_chinese_with_the_hubs_values():
    html = page("token")
    for value, label in (("3600", "1 小时"), ("86400", "1 天"), ("604800", "1 周"), ("2592000", "1 个月"),
                         ("31536000", "1 年")):
        assert f'<option value="{value}">{label}</option>' in html
    assert '<option selected="selected"value="">永不过期</option>' in html
    assert '>最长（10 天）</option>' in page("token-with-max-expiry")
    assert '>最长（48 小时）</option>' in render("token.html", **token_page(max_seconds=2 * 86400))


def test_token_page_shows_the_hubs_token_notes_in_chinese():
    notes = re.findall(r'<td class="note-col[^"]*">([^<]*)</td>', page("token"))
    assert notes == ["工作区 /user/w0001/", "在令牌页申请", "第二课练习用", "工作区 /user/w0001/"], notes


def test_authorization_area_lets_trainers_reset_a_workers_password():
    html = page("authorization-area")
    assert 'href="/hub/change-password/w0001" role="button">重置密码</a>' in html
    assert 'href="/hub/authorize/w0002" role="button">启用</a>' in html


def test_share_page_shows_the_scope_in_chinese():
    assert "通过浏览器或接口访问工作区（适用于：工作区 w0002/lx1）" in visible(page("accept-share"))


def test_oauth_page_shows_the_identify_scope_in_chinese():
    assert "确认你的身份（用户名等基本信息）" in visible(page("oauth"))


# --- in a real browser: the scripts that put Chinese over what the hub's JavaScript writes ----

@pytest.mark.slow
def test_pages_in_a_browser_show_progress_times_and_errors_in_chinese():
    # "5 分钟前" counts from now, not from when the module was imported (minutes earlier in a long run)
    NAMED[0].last_activity = datetime.now(timezone.utc).replace(tzinfo=None) - timedelta(minutes=5)
    from report_shapes import ARGS, CHROMIUM
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: run `make system-deps` (Debian package chromium)")
    from playwright.sync_api import sync_playwright

    origin = "http://hub.test"
    events = [{"progress": 0, "message": "Server requested"},
              {"progress": 50, "message": "Spawning server..."},
              {"progress": 100, "failed": True, "message": "Spawn failed: 磁盘空间不足"}]
    html = {"/hub/home": page("home-named-servers"), "/hub/spawn-pending/w0001": page("spawn-pending")}

    def serve(route):
        url = route.request.url
        path = url[len(origin):].split("?")[0]
        if path in html:
            return route.fulfill(body=html[path], content_type="text/html; charset=utf-8")
        if path.startswith("/hub/static/"):
            f = STATIC / path[len("/hub/static/"):]
            kind = mimetypes.guess_type(f.name)[0] or "application/octet-stream"
            return route.fulfill(body=f.read_bytes(), content_type=kind) if f.is_file() else route.fulfill(status=404)
        if path == "/hub/logo":
            return route.fulfill(body=(STATIC / "images" / "jupyterhub-80.png").read_bytes(), content_type="image/png")
        if path.endswith("/server/progress"):
            body = "".join(f"data: {json.dumps(e)}\n\n" for e in events)
            return route.fulfill(body=body, content_type="text/event-stream")
        if path == "/hub/api/users/w0001/server" and route.request.method == "DELETE":
            return route.fulfill(status=204)
        if path == "/hub/api/users/w0001/servers/lx1" and route.request.method == "DELETE":
            return route.fulfill(status=500, body=json.dumps({"status": 500, "message": "磁盘已满"}),
                                 content_type="application/json")
        return route.fulfill(status=404)

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        try:
            tab = browser.new_page()
            problems: list[str] = []
            tab.on("pageerror", lambda e: problems.append(f"pageerror: {e}"))
            tab.route(f"{origin}/**", serve)

            tab.goto(f"{origin}/hub/spawn-pending/w0001")
            tab.wait_for_function("document.querySelector('#progress-bar').classList.contains('bg-danger')")
            assert tab.inner_text("#progress-message") == "工作区启动失败：磁盘空间不足"
            log = tab.inner_text("#progress-log")
            assert "已提交启动请求" in log and "正在启动工作区…" in log

            tab.goto(f"{origin}/hub/home")
            tab.wait_for_function("window._jupyterhub_page_loaded === true")
            times = tab.eval_on_selector_all(".time-col", "els => els.map(e => e.textContent.trim())")
            assert times == ["5 分钟前", "从未使用"]
            tab.click("#stop")   # home.js writes "Start My Server" once the API call succeeds
            tab.wait_for_function("getComputedStyle(document.querySelector('#stop')).display === 'none'")
            tab.wait_for_function("document.querySelector('#start').textContent.trim() !== '进入我的工作区'")
            assert tab.inner_text("#start").strip() == "开始我的工作区"
            assert tab.get_attribute("#start", "title") == "开始我的工作区"
            tab.click("#stop-lx1")   # the API answers 500: utils.js fills the error dialog
            tab.wait_for_selector("#error-dialog.show")
            assert tab.inner_text("#error-dialog .ajax-error") == "操作失败（500）：磁盘已满"
            assert tab.inner_text("#error-label") == "出错了"
            body = tab.inner_text("body")
            assert english_words(body) == [], english_words(body)
            assert problems == []
        finally:
            browser.close()

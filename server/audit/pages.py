"""What anonymous visitors get: the login form, and "please log in" in HTML, JSON or plain text."""

from __future__ import annotations

import json
from html import escape

HINT_ZH = "需要登录:请在浏览器打开登录页,或在请求头中携带 Authorization: Bearer 账号.密钥(由 laogan audit user add 生成)。"
HINT_EN = ("login required: open the login page in a browser, or send Authorization: Bearer NAME.SECRET "
           "(the token printed by `laogan audit user add`).")
_STYLE = ("body{font-family:system-ui,sans-serif;max-width:32em;margin:4em auto;padding:0 1em;color:#222}"
          "label{display:block;margin:.8em 0 .2em}input[type=text],input[type=password]{width:100%;padding:.4em}"
          "button{margin-top:1em;padding:.4em 1.4em}.err{color:#a00}code{background:#eee;padding:0 .2em}")


def _page(title: str, body: str) -> str:
    return (f'<!DOCTYPE html><html lang="zh-CN"><head><meta charset="utf-8"><title>{escape(title)}</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{_STYLE}</style></head>'
            f"<body>{body}</body></html>")


def login_page(*, action: str, next_path: str, csrftoken: str, error: str = "") -> str:
    err = f'<p class="err">{escape(error)}</p>' if error else ""
    return _page("审计登录 audit login", (
        "<h1>老干部精准化服务 · 审计查询</h1><h2>登录 Log in</h2>" + err
        + f'<form method="post" action="{escape(action)}">'
        + f'<input type="hidden" name="csrftoken" value="{escape(csrftoken)}">'
        + f'<input type="hidden" name="next" value="{escape(next_path)}">'
        + '<label for="name">账号 name</label><input type="text" id="name" name="name" autocomplete="username">'
        + '<label for="secret">密钥 secret(或完整令牌 NAME.SECRET)</label>'
        + '<input type="password" id="secret" name="secret" autocomplete="current-password">'
        + '<button type="submit">登录</button></form>'
        + "<p>程序访问:请求头 <code>Authorization: Bearer 账号.密钥</code>。"
        + "API: send <code>Authorization: Bearer NAME.SECRET</code>.</p>"
    ))


def refusal(path: str, login_url: str) -> tuple[str, bytes]:
    """(content type, body) of the 401 an anonymous request gets, in the format its path asks for."""
    if path.endswith(".json"):
        body = {"ok": False, "status": 401, "error": f"{HINT_ZH} {HINT_EN}", "login": login_url}
        return "application/json; charset=utf-8", json.dumps(body, ensure_ascii=False).encode()
    if path.endswith(".csv") or path.endswith(".db"):
        return "text/plain; charset=utf-8", f"{HINT_ZH}\n{HINT_EN}\nlogin: {login_url}\n".encode()
    html = _page("需要登录 login required", (
        f"<h1>需要登录</h1><p>{escape(HINT_ZH)}</p><p>{escape(HINT_EN)}</p>"
        f'<p><a href="{escape(login_url)}">登录 Log in</a></p>'))
    return "text/html; charset=utf-8", html.encode()


def unavailable() -> tuple[str, bytes]:
    text = "访问日志暂时无法写入,为保证每次访问都有记录,暂停服务。The access log cannot be written; refusing to serve unlogged.\n"
    return "text/plain; charset=utf-8", text.encode()


def safe_next(value: str | None, default: str) -> str:
    """A local path to go to after login (never another host)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return default
    return value

"""A page shaped like XNAT's image session report, for driving the plugin in a browser.

It holds the plugin's real template HTML (``SduPanel.vm`` from the jar, its few Velocity
references substituted the way XNAT's Turbine/Velocity would fill them) and loads the jar's real
scripts and style, on top of the globals XNAT's pages define and the plugin uses, with XNAT's
shapes: ``getObject`` (``scripts/utils.js``), ``serverRoot`` and ``csrfToken`` (set by the page
headers), ``XNAT.url.rootUrl``/``csrfUrl`` (``scripts/xnat/url.js``: prefix the server root, add
``XNAT_CSRF``), ``XNAT.xhr.get/put/post/getJSON/postJSON`` (``scripts/xnat/xhr.js``: jQuery's ajax
with ``url``, ``data``, ``success``, ``error``), ``XNAT.ui.dialog.message`` and
``XNAT.data.context`` (``projectID``, ``ID``, ``xsiType``, ``isImageSession``). jQuery is
Debian's (libjs-jquery), as XNAT bundles its own.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

JQUERY = Path("/usr/share/javascript/jquery/jquery.min.js")
PANEL_TEMPLATE = "META-INF/resources/templates/screens/xnat_imageSessionData/report/postScans/SduPanel.vm"
ACTIONS_TEMPLATE = "META-INF/resources/templates/screens/xnat_imageSessionData/actionsBox/SduActions.vm"

GLOBALS = """
function getObject(obj) { return (obj && typeof obj === 'object') ? obj : {}; }
var serverRoot = %(root)s;
var csrfToken = %(csrf)s;
var XNAT = getObject(window.XNAT);
XNAT.data = {context: %(context)s};
XNAT.url = {
    rootUrl: function (url) { return serverRoot + url; },
    csrfUrl: function (url) { return serverRoot + url + (url.indexOf('?') < 0 ? '?' : '&') + 'XNAT_CSRF=' + csrfToken; }
};
XNAT.xhr = (function () {
    function request(method) {
        return function (opts, more) {
            opts = (typeof opts === 'string') ? $.extend({url: opts}, more) : $.extend({}, opts);
            opts.type = method;
            return $.ajax(opts);
        };
    }
    var xhr = {get: request('GET'), put: request('PUT'), post: request('POST'), 'delete': request('DELETE')};
    xhr.getJSON = function (opts) { return xhr.get($.extend({dataType: 'json'}, opts)); };
    xhr.postJSON = function (opts) { return xhr.post($.extend({contentType: 'application/json', dataType: 'json'}, opts)); };
    return xhr;
})();
XNAT.ui = {dialog: {
    message: function (title, content) { var d = document.createElement('div'); d.className = 'xnat-dialog';
        d.textContent = title + ': ' + content; document.body.appendChild(d); return d; },
    open: function (opts) { return XNAT.ui.dialog.message(opts.title || '', opts.content || ''); }
}};
"""


def jar_files(jar: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(jar) as z:
        return {name: z.read(name) for name in z.namelist() if not name.endswith("/")}


def render_velocity(text: str, values: dict[str, str], server_root: str) -> str:
    """The template's HTML as Velocity renders it for ``values``: directives and comments dropped,
    ``$content.getURI('x')`` -> server root + x, ``$!name``/``$!om.getX()`` references substituted."""
    out = []
    for line in text.splitlines():
        if line.lstrip().startswith(("##", "#set(")):
            continue
        line = re.sub(r"\$content\.getURI\('([^']*)'\)", lambda m: server_root + m.group(1), line)
        line = re.sub(r"\$!?\{?([\w.]+(?:\(\))?)\}?", lambda m: values.get(m.group(1), m.group(0)), line)
        out.append(line)
    return "\n".join(out)


def session_page(files: dict[str, bytes], server_root: str, session: str, project: str, can_edit: bool,
                 csrf: str = "harness-csrf-token") -> str:
    values = {"om.getId()": session, "om.getProject()": project, "sduCanEdit": "true" if can_edit else "false"}
    panel = render_velocity(files[PANEL_TEMPLATE].decode(), values, server_root)
    actions = render_velocity(files[ACTIONS_TEMPLATE].decode(), values, server_root)
    context = {"projectID": project, "project": project, "ID": session, "xsiType": "xnat:ctSessionData",
               "isImageSession": True}
    globals_js = GLOBALS % {"root": json.dumps(server_root), "csrf": json.dumps(csrf), "context": json.dumps(context)}
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>XNAT session (harness)</title>
<script src="{server_root}/harness/jquery.js"></script>
<script>{globals_js}</script></head>
<body><div id="page-body"><div id="actionsMenu"><ul>{actions}</ul></div>
<div name="custom-post-scans">{panel}</div></div></body></html>"""


def install_routes(page, emu_url: str, files: dict[str, bytes], html: str) -> None:
    """Serve the harness page, jQuery and the jar's static files; everything else goes to the emulator."""
    static = {"/" + name.removeprefix("META-INF/resources/"): data for name, data in files.items()
              if name.startswith("META-INF/resources/") and not name.endswith(".vm")}
    types = {".js": "application/javascript", ".css": "text/css", ".json": "application/json"}

    def handle(route):
        path = route.request.url[len(emu_url):].split("?", 1)[0]
        if path in ("/harness/session", "/harness/settings"):
            return route.fulfill(status=200, content_type="text/html", body=html)
        if path == "/harness/jquery.js":
            return route.fulfill(status=200, content_type="application/javascript", body=JQUERY.read_bytes())
        if path in static:
            return route.fulfill(status=200, content_type=types.get(Path(path).suffix, "application/octet-stream"),
                                 body=static[path])
        return route.continue_()

    page.route(re.compile("^" + re.escape(emu_url) + "/(harness|scripts|style)/.*"), handle)


def spawner_panel_html(files: dict[str, bytes], yaml_name: str, panel: str, server_root: str) -> str:
    """A spawner panel's elements as XNAT's spawner renders them, for the kinds the plugin uses:
    ``tag: div#id`` / ``div.class`` (with text ``contents``), ``tag: script|src="~/…"`` (``~`` is the
    site root) and ``tag: script`` with inline ``content``."""
    import html

    import yaml

    doc = yaml.safe_load(files[f"META-INF/xnat/spawner/sdu/{yaml_name}"])
    out = []
    for element in doc[panel]["contents"].values():
        tag = element["tag"]
        if tag.startswith("script|src="):
            src = tag.split("=", 1)[1].strip('"').replace("~", server_root, 1)
            out.append(f'<script src="{html.escape(src)}"></script>')
        elif tag == "script":
            out.append(f"<script>{element['content']}</script>")
        else:
            name, _, ident = tag.partition("#")
            name, _, cls = name.partition(".")
            attrs = (f' id="{ident}"' if ident else "") + (f' class="{cls}"' if cls else "")
            out.append(f"<{name}{attrs}>{html.escape(str(element.get('contents', '')))}</{name}>")
    return "\n".join(out)


def settings_page(files: dict[str, bytes], server_root: str, project: str | None) -> str:
    """The site (project None) or project settings page with the plugin's spawner panel."""
    yaml_name, panel = (("project-settings.yaml", "sduProjectSettingsPanel") if project
                        else ("site-settings.yaml", "sduSiteSettingsPanel"))
    context = {"projectID": project or "", "project": project or ""}
    globals_js = GLOBALS % {"root": json.dumps(server_root), "csrf": json.dumps("harness-csrf-token"),
                            "context": json.dumps(context)}
    body = spawner_panel_html(files, yaml_name, panel, server_root)
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>XNAT settings (harness)</title>
<script src="{server_root}/harness/jquery.js"></script>
<script>{globals_js}</script></head><body>{body}</body></html>"""

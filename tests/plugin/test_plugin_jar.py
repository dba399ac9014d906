"""The plugin jar as ``gradle jar`` builds it: what XNAT loads, where XNAT looks for it.

XNAT finds a plugin through ``META-INF/xnat/*-plugin.properties`` (written by NRG's annotation
processor from ``@XnatPlugin``), includes Velocity templates from
``META-INF/resources/templates/screens/<xsiType>/actionsBox/`` and ``…/report/postScans/``,
serves ``META-INF/resources/scripts/…`` and ``…/style/…`` at the site root and reads settings
pages from ``META-INF/xnat/spawner/<name>/site-settings.yaml`` / ``project-settings.yaml``.
"""
from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]
RESOURCES = "META-INF/resources/"


def _entries(jar):
    with zipfile.ZipFile(jar) as z:
        return {n: z.read(n) for n in z.namelist() if not n.endswith("/")}


def test_plugin_properties_are_generated_by_xnats_annotation_processor(plugin_build):
    jar, _, _ = plugin_build
    files = _entries(jar)
    props = dict(line.split("=", 1) for line in files["META-INF/xnat/sdu-plugin.properties"].decode().splitlines()
                 if "=" in line and not line.startswith("#"))
    assert props["id"] == "sdu" and props["beanName"] == "sduPlugin"
    assert props["class"] == "org.sdu.xnat.SduPlugin"
    assert "org/sdu/xnat/SduPlugin.class" in files
    assert not any(n.startswith("org/nrg/") for n in files), "the framework is XNAT's, not bundled"


def test_junit_tests_ran_in_the_build(plugin_build):
    _, build, _ = plugin_build
    results = list((build / "test-results" / "test").glob("TEST-*.xml"))
    assert results, "gradle test wrote no JUnit results"
    text = results[0].read_text()
    assert re.search(r'tests="2"', text) and 'failures="0"' in text and 'errors="0"' in text


def test_templates_scripts_and_style_are_where_xnat_looks(plugin_build):
    files = _entries(plugin_build[0])
    panel = files[RESOURCES + "templates/screens/xnat_imageSessionData/report/postScans/SduPanel.vm"].decode()
    actions = files[RESOURCES + "templates/screens/xnat_imageSessionData/actionsBox/SduActions.vm"].decode()
    assert "<!-- Sequence:" in actions and 'href="#sdu-panel"' in actions
    for ref in re.findall(r"\$content\.getURI\('/([^']+)'\)", panel):
        assert RESOURCES + ref in files, f"the template loads {ref}, which the jar lacks"
    assert "scripts/xnat/plugin/sdu/sdu-session.js" in panel and "style/sdu/sdu-session.css" in panel
    assert RESOURCES + "scripts/xnat/plugin/sdu/sdu-settings.js" in files


def test_spawner_yaml_for_site_and_project_settings(plugin_build):
    files = _entries(plugin_build[0])
    site = yaml.safe_load(files["META-INF/xnat/spawner/sdu/site-settings.yaml"])
    project = yaml.safe_load(files["META-INF/xnat/spawner/sdu/project-settings.yaml"])
    assert site["siteSettings"]["kind"] == "tabs" and project["projectSettings"]["kind"] == "tabs"
    for doc, div in ((site, "sdu-settings-site"), (project, "sdu-settings-project")):
        text = json.dumps(doc)
        assert div in text and "~/scripts/xnat/plugin/sdu/sdu-settings.js" in text


def test_bundled_protocols_are_protocols_folder_copies_with_an_index(plugin_build):
    files = _entries(plugin_build[0])
    base = RESOURCES + "scripts/xnat/plugin/sdu/protocols/"
    sources = sorted(p for p in (REPO / "protocols").glob("*.json") if not p.name.endswith(".schema.json"))
    assert sources
    for src in sources:
        assert files[base + src.name] == src.read_bytes(), f"{src.name} differs from protocols/"
    index = json.loads(files[base + "index.json"])
    assert [p["id"] for p in index["protocols"]] == [json.loads(s.read_text())["id"] for s in sources]
    hn = next(p for p in index["protocols"] if p["id"] == "EXAMPLE-HN")
    assert {a["id"] for a in hn["arms"]} == {"standard", "deescalated"}

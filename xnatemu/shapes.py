"""Response shapes: XNAT's ``ResultSet`` listings and ``items`` object documents (``format=json``).

Listings are ``{"ResultSet": {"Result": [...], "totalRecords": "N", "title": ...}}`` with XNAT's
column names (``ID``, ``label``, ``URI``, ``xsiType``; resources: ``xnat_abstractresource_id``,
``label``, ``element_name``, ``file_count``, ``file_size``; files: ``Name``, ``Size``, ``URI``,
``collection``, ``cat_ID``, ``digest``) as XNAT's restlet resources write them
(``org.nrg.xnat.restlet.resources`` in NrgXnat/xnat-web) and as xnatpy's ``XNATListing`` and
pyxnat's ``JsonTable`` read them. Objects are ``{"items": [{"meta": {"xsi:type", "isHistory"},
"data_fields": {...}, "children": [{"field": "scans/scan", "items": [...]}, ...]}]}``, the
document xnatpy's ``XNATObject.fulldata`` parses.
"""
from __future__ import annotations

from .store import Experiment, Resource, Scan, Subject


def result_set(rows: list[dict], title: str = "") -> dict:
    return {"ResultSet": {"Result": rows, "totalRecords": str(len(rows)), "title": title}}


def result_csv(result: dict) -> bytes:
    """A ResultSet as ``format=csv`` (what pyxnat asks for): a header line of the columns, then rows."""
    import csv
    import io

    rows = result["ResultSet"]["Result"]
    columns = list(dict.fromkeys(k for r in rows for k in r))
    out = io.StringIO()
    writer = csv.DictWriter(out, columns, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode()


def item(xsi_type: str, fields: dict, children: list | None = None) -> dict:
    return {"meta": {"create_event_id": 1, "xsi:type": xsi_type, "isHistory": False, "start_date": ""},
            "data_fields": fields, "children": children or []}


def items(one: dict) -> dict:
    return {"items": [one]}


def project_row(p: dict) -> dict:
    return {**p, "alias": "", "URI": f"/data/projects/{p['ID']}"}


def project_item(p: dict) -> dict:
    return item("xnat:projectData", {"ID": p["ID"], "secondary_ID": p["secondary_ID"], "name": p["name"],
                                     "description": p["description"], "active": True})


def subject_row(s: Subject, project: str, label: str) -> dict:
    return {"ID": s.id, "project": project, "label": label, "insert_date": s.insert_date, "insert_user": "admin",
            "URI": f"/data/subjects/{s.id}"}


def _shares(obj, xsi: str) -> dict:
    return {"field": "sharing/share", "items": [item(xsi, {"label": label, "project": project})
                                                for project, label in obj.shares.items()]}


def resource_item(r: Resource) -> dict:
    return item("xnat:resourceCatalog", {"xnat_abstractresource_id": r.id, "label": r.label, "format": r.format,
                                         "content": r.content, "file_count": len(r.files),
                                         "file_size": sum(len(d) for d in r.files.values())})


def subject_item(s: Subject) -> dict:
    children = [_shares(s, "xnat:projectParticipant")]
    if s.resources:
        children.append({"field": "resources/resource", "items": [resource_item(r) for r in s.resources.values()]})
    return item("xnat:subjectData", {"ID": s.id, "project": s.project, "label": s.label}, children)


def experiment_row(e: Experiment, project: str, label: str) -> dict:
    return {"ID": e.id, "project": project, "label": label, "date": e.date, "xsiType": e.xsi_type,
            "xnat:subjectassessordata/id": e.id, "subject_ID": e.subject_id, "insert_date": e.insert_date,
            "URI": f"/data/experiments/{e.id}"}


def scan_row(e: Experiment, s: Scan) -> dict:
    return {"xnat_imagescandata_id": s.id, "ID": s.id, "type": s.type, "quality": "usable",
            "series_description": s.series_description, "xsiType": s.xsi_type, "note": "",
            "URI": f"/data/experiments/{e.id}/scans/{s.id}"}


def scan_item(e: Experiment, s: Scan) -> dict:
    children = [{"field": "file", "items": [resource_item(r) for r in s.resources.values()]}]
    return item(s.xsi_type, {"ID": s.id, "type": s.type, "series_description": s.series_description, "UID": s.uid,
                             "modality": s.modality, "quality": "usable", "image_session_ID": e.id,
                             "project": e.project}, children)


def experiment_item(e: Experiment) -> dict:
    children = [{"field": "scans/scan", "items": [scan_item(e, s) for s in e.scans.values()]},
                _shares(e, "xnat:experimentData_share")]
    if e.resources:
        children.append({"field": "resources/resource", "items": [resource_item(r) for r in e.resources.values()]})
    if e.fields:
        children.append({"field": "fields/field", "items": [item("xnat:experimentData_field", {"name": k, "field": v})
                                                            for k, v in e.fields.items()]})
    fields = {"ID": e.id, "project": e.project, "label": e.label, "subject_ID": e.subject_id, "UID": e.uid,
              "modality": e.modality}
    if e.date:
        fields["date"] = f"{e.date[:4]}-{e.date[4:6]}-{e.date[6:8]}" if len(e.date) == 8 else e.date
    return item(e.xsi_type, fields, children)

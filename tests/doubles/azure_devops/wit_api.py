"""Work items, the way Renovate's azure platform keeps its issues (the Dependency Dashboard) in them.

The project's process is Azure DevOps' Basic process: work item types Epic, Issue and Task, with the states
To Do (category Proposed), Doing (InProgress) and Done (Completed). WIQL is understood for the queries Renovate
writes: ``SELECT [System.Id] FROM WorkItems WHERE`` equality conditions on fields joined by ``AND``.
Left out: other processes and custom fields, WIQL beyond equality and ``AND``, ordering, saved queries, links,
comments, attachments, revisions and history, area and iteration paths, and permissions (any identity of the
organization may read and write work items).
"""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any, Final

from .repos_api import project_not_found, scoped_project
from .routing import ApiError, Request, Response
from .shapes import identity_ref, iso
from .state import Project, WorkItem, stable_id, utc_now

# type -> [(state, category)], in workflow order
BASIC_PROCESS: Final = {
    "Epic": [("To Do", "Proposed"), ("Doing", "InProgress"), ("Done", "Completed")],
    "Issue": [("To Do", "Proposed"), ("Doing", "InProgress"), ("Done", "Completed")],
    "Task": [("To Do", "Proposed"), ("Doing", "InProgress"), ("Done", "Completed")],
}
_WIQL: Final = re.compile(r"^\s*SELECT\s+.+?\s+FROM\s+WorkItems\s+WHERE\s+(?P<conditions>.+?)\s*$", re.I | re.S)
_CONDITION: Final = re.compile(r"^\s*\[(?P<field>[\w.]+)\]\s*=\s*'(?P<value>(?:[^']|'')*)'\s*$", re.S)


def _process_type(name: str) -> str:
    found = next((known for known in BASIC_PROCESS if known.lower() == name.lower()), None)
    if found is None:
        raise ApiError(
            HTTPStatus.NOT_FOUND,
            "WorkItemTypeNotFoundException",
            f"VS402323: Work item type {name} does not exist in the project.",
        )
    return found


def tags(request: Request) -> Response:
    """``GET {project}/_apis/wit/tags`` (Tags - List): the project's tag definitions, which pull request labels are."""
    project = scoped_project(request)
    names = sorted(project.tags) if project is not None else []
    return Response.collection(
        [{"id": stable_id(project.id if project else "", name), "name": name, "active": True} for name in names]
    )


def work_item_types(request: Request) -> Response:
    scoped_project(request)
    wanted = request.value("type")
    types = [
        {"name": name, "referenceName": f"Microsoft.VSTS.WorkItemTypes.{name}", "isDisabled": False}
        for name in BASIC_PROCESS
        if wanted is None or name == _process_type(wanted)
    ]
    return Response.ok(types[0]) if wanted is not None else Response.collection(types)


def work_item_type_states(request: Request) -> Response:
    scoped_project(request)
    states = BASIC_PROCESS[_process_type(request.required("type"))]
    return Response.collection([{"name": name, "color": "b2b2b2", "category": category} for name, category in states])


def query_by_wiql(request: Request) -> Response:
    body = request.json() or {}
    conditions = _parse_wiql(str(body.get("query", "")))
    scope = scoped_project(request)
    with request.state.lock:
        matching = [
            item
            for item in request.state.work_items.values()
            if (scope is None or item.project == scope)
            and all(str(_field(item, name)).lower() == value.lower() for name, value in conditions.items())
        ]
    return Response.ok(
        {
            "queryType": "flat",
            "queryResultType": "workItem",
            "asOf": iso(utc_now()),
            "columns": [
                {"referenceName": "System.Id", "name": "ID", "url": request.site.api("_apis/wit/fields/System.Id")}
            ],
            "workItems": [
                {"id": item.id, "url": _item_url(request, item)} for item in sorted(matching, key=lambda i: i.id)
            ],
        }
    )


def _parse_wiql(query: str) -> dict[str, str]:
    parsed = _WIQL.match(query)
    if parsed is None:
        raise ApiError(HTTPStatus.BAD_REQUEST, "WiqlSyntaxException", f"TF51005: The query is not understood: {query}")
    conditions: dict[str, str] = {}
    for clause in re.split(r"\s+AND\s+", parsed["conditions"], flags=re.I):
        condition = _CONDITION.match(clause)
        if condition is None:
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "WiqlSyntaxException", f"TF51005: The double understands no clause {clause!r}"
            )
        conditions[condition["field"]] = condition["value"].replace("''", "'")
    return conditions


def _field(item: WorkItem, name: str) -> Any:
    if name == "System.TeamProject":
        return item.project.name
    return item.fields.get(name, "")


def _item_url(request: Request, item: WorkItem) -> str:
    return request.site.api(f"{item.project.id}/_apis/wit/workItems/{item.id}")


def _item_json(request: Request, item: WorkItem, fields: list[str] | None = None) -> dict[str, Any]:
    all_fields = {**item.fields, "System.TeamProject": item.project.name, "System.Rev": item.rev}
    chosen = {name: value for name, value in all_fields.items() if fields is None or name in fields}
    return {"id": item.id, "rev": item.rev, "fields": chosen, "url": _item_url(request, item)}


def get_work_items(request: Request) -> Response:
    scope = scoped_project(request)
    single = request.value("id")
    raw_ids = single or request.query.get("ids", "")
    if not raw_ids.strip(","):  # Work Items - List takes `ids`; there is no "every work item" read
        raise ApiError(HTTPStatus.BAD_REQUEST, "ArgumentNullException", "Value cannot be null. Parameter name: ids")
    fields = [name for name in request.query.get("fields", "").split(",") if name] or None
    items = []
    with request.state.lock:
        for raw_id in filter(None, raw_ids.split(",")):
            item = request.state.work_items.get(int(raw_id)) if raw_id.isdigit() else None
            if item is None or (scope is not None and item.project != scope):
                raise ApiError(
                    HTTPStatus.NOT_FOUND,
                    "WorkItemUnauthorizedAccessException",
                    f"TF401232: Work item {raw_id} does not exist, or you do not have permissions to read it.",
                )
            items.append(_item_json(request, item, fields))
    return Response.ok(items[0]) if single else Response.collection(items)


def create_work_item(request: Request) -> Response:
    project = _required_project(request)
    work_item_type = _process_type(request.required("type"))
    now = iso(utc_now())
    fields: dict[str, Any] = {
        "System.WorkItemType": work_item_type,
        "System.State": BASIC_PROCESS[work_item_type][0][0],
        "System.CreatedDate": now,
        "System.ChangedDate": now,
        "System.CreatedBy": identity_ref(request.site, request.caller),
    }
    _apply(fields, request.json(), work_item_type)
    item = request.state.add_work_item(project, fields)
    return Response.ok(_item_json(request, item))


def update_work_item(request: Request) -> Response:
    raw_id = request.required("id")
    with request.state.lock:
        item = request.state.work_items.get(int(raw_id)) if raw_id.isdigit() else None
        if item is None:
            raise ApiError(
                HTTPStatus.NOT_FOUND,
                "WorkItemUnauthorizedAccessException",
                f"TF401232: Work item {raw_id} does not exist, or you do not have permissions to read it.",
            )
        _apply(item.fields, request.json(), item.fields["System.WorkItemType"])
        item.fields["System.ChangedDate"] = iso(utc_now())
        item.rev += 1
    return Response.ok(_item_json(request, item))


def _required_project(request: Request) -> Project:
    project = scoped_project(request)
    if project is None:
        raise project_not_found("")
    return project


def _apply(fields: dict[str, Any], operations: Any, work_item_type: str) -> None:
    """Applies a JSON Patch document of ``add``/``replace`` operations on ``/fields/<name>``."""
    if not isinstance(operations, list):
        raise ApiError(HTTPStatus.BAD_REQUEST, "VssPropertyValidationException", "Expected a JSON Patch document.")
    for operation in operations:
        path, value = str(operation.get("path", "")), operation.get("value")
        if operation.get("op") not in ("add", "replace") or not path.startswith(
            ("/fields/", "/multilineFieldsFormat/")
        ):
            raise ApiError(
                HTTPStatus.BAD_REQUEST, "VssPropertyValidationException", f"Unsupported operation {operation}"
            )
        if path.startswith("/multilineFieldsFormat/"):
            continue  # Markdown or HTML rendering of a long text field: nothing to keep for the double
        name = path.removeprefix("/fields/")
        if name == "System.State" and value not in [state for state, _ in BASIC_PROCESS[work_item_type]]:
            raise ApiError(
                HTTPStatus.BAD_REQUEST,
                "WorkItemFieldInvalidException",
                f"TF401320: Rule Error for field State. Error code: InvalidListValue. The value {value!r} is not "
                f"allowed for a {work_item_type}.",
            )
        fields[name] = value

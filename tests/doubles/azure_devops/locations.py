"""The location service azure-devops-node-api routes through, and the resource locations the double serves.

A client first asks ``GET _apis/ResourceAreas`` which host serves an area (the double: itself, and its ``vssps/``
prefix for the profile area), then ``OPTIONS _apis/<area>`` for the area's resource locations (id, route template,
versions), and builds each request URL from them. Ids, route templates and versions are those of Azure DevOps
Services (from azure-devops-node-api 17 and azure-devops-extension-api); the versions say 7.1 released, 7.2 in
preview, so the ``7.2-preview.N`` versions the client asks for are accepted.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Final

from .routing import Handler, Location, Request, Response, UnknownRoute
from .shapes import identity_ref

# Location area ------------------------------------------------------------------------------------------------------
RESOURCE_AREAS: Final = Location(
    id="e81700f7-3be2-46de-8624-2eb35882fcaa",
    area="Location",
    resource_name="ResourceAreas",
    route_template="_apis/{resource}/{areaId}",
    resource_version=1,
    released_version="0.0",
    min_version="3.2",
)
CONNECTION_DATA: Final = Location(
    id="00d9565f-ed9c-4a06-9a50-00e7896ccab4",
    area="Location",
    resource_name="ConnectionData",
    route_template="_apis/{resource}",
    resource_version=1,
    released_version="0.0",
)

# core -----------------------------------------------------------------------------------------------------------
PROJECTS: Final = Location(
    id="603fe2ac-9723-48b9-88ad-09305aa6c6e1",
    area="core",
    resource_name="projects",
    route_template="_apis/{resource}/{*projectId}",
    resource_version=4,
)

# git ------------------------------------------------------------------------------------------------------------
_REPO: Final = "{project}/_apis/{area}/repositories/{repositoryId}"
_PULL: Final = f"{_REPO}/pullRequests/{{pullRequestId}}"
REPOSITORIES: Final = Location(
    id="225f7195-f9c7-4d14-ab28-a83f7ff77e1f",
    area="git",
    resource_name="Repositories",
    route_template="{project}/_apis/{area}/{resource}/{repositoryId}",
    resource_version=2,
)
ITEMS: Final = Location(
    id="fb93c0db-47ed-4a31-8c20-47552878fb44",
    area="git",
    resource_name="Items",
    route_template=f"{_REPO}/{{resource}}/{{*path}}",
    resource_version=1,
)
REFS: Final = Location(
    id="2d874a60-a811-4f62-9c9f-963a6ea0a55b",
    area="git",
    resource_name="refs",
    route_template=f"{_REPO}/{{resource}}/{{*filter}}",
    resource_version=2,
)
COMMITS: Final = Location(
    id="c2570c3b-5b3f-41b8-98bf-5407bfde8d58",
    area="git",
    resource_name="Commits",
    route_template=f"{_REPO}/{{resource}}/{{commitId}}",
    resource_version=2,
)
BRANCH_STATS: Final = Location(
    id="d5b216de-d8d5-4d32-ae76-51df755b16d3",
    area="git",
    resource_name="branchStats",
    route_template=f"{_REPO}/stats/branches",
    resource_version=2,
)
STATUSES: Final = Location(
    id="428dd4fb-fda5-4722-af02-9313b80305da",
    area="git",
    resource_name="Statuses",
    route_template=f"{_REPO}/commits/{{commitId}}/{{resource}}",
    resource_version=2,
)
PULL_REQUESTS: Final = Location(
    id="9946fd70-0d40-406e-b686-b4744cbbcc37",
    area="git",
    resource_name="pullRequests",
    route_template=f"{_REPO}/{{resource}}/{{pullRequestId}}",
    resource_version=2,
)
PULL_REQUESTS_BY_PROJECT: Final = Location(
    id="a5d28130-9cd2-40fa-9f08-902e7daa9efb",
    area="git",
    resource_name="pullRequests",
    route_template="{project}/_apis/{area}/{resource}",
    resource_version=2,
    project_required=True,
)
PULL_REQUEST_BY_ID: Final = Location(
    id="01a46dea-7d46-4d40-bc84-319e7c260d99",
    area="git",
    resource_name="pullRequests",
    route_template="{project}/_apis/{area}/{resource}/{pullRequestId}",
    resource_version=2,
)
PULL_REQUEST_LABELS: Final = Location(
    id="f22387e3-984e-4c52-9c6d-fbb8f14c812d",
    area="git",
    resource_name="labels",
    route_template=f"{_PULL}/{{resource}}/{{labelIdOrName}}",
    resource_version=1,
    released_version="0.0",
)
PULL_REQUEST_THREADS: Final = Location(
    id="ab6e2e5d-a0b7-4153-b64a-a4efe0d49449",
    area="git",
    resource_name="threads",
    route_template=f"{_PULL}/{{resource}}/{{threadId}}",
    resource_version=1,
)
PULL_REQUEST_THREAD_COMMENTS: Final = Location(
    id="965a3ec7-5ed8-455a-bdcb-835a5ea7fe7b",
    area="git",
    resource_name="comments",
    route_template=f"{_PULL}/threads/{{threadId}}/{{resource}}/{{commentId}}",
    resource_version=1,
)
PULL_REQUEST_REVIEWERS: Final = Location(
    id="4b6702c7-aa35-4b89-9c96-b9abf6d3e540",
    area="git",
    resource_name="reviewers",
    route_template=f"{_PULL}/{{resource}}/{{reviewerId}}",
    resource_version=1,
)

# policy ---------------------------------------------------------------------------------------------------------
POLICY_CONFIGURATIONS: Final = Location(
    id="dad91cbe-d183-45f8-9c6e-9c1164472121",
    area="policy",
    resource_name="Configurations",
    route_template="{project}/_apis/{area}/{resource}/{configurationId}",
    resource_version=1,
    project_required=True,
)
POLICY_EVALUATIONS: Final = Location(
    id="c23ddff5-229c-4d04-a80b-0fdce9f360c8",
    area="policy",
    resource_name="Evaluations",
    route_template="{project}/_apis/{area}/{resource}",
    resource_version=1,
    released_version="0.0",
    project_required=True,
)

# wit (work items) ---------------------------------------------------------------------------------------------
WIQL: Final = Location(
    id="1a9c53f7-f243-4447-b110-35ef023636e4",
    area="wit",
    resource_name="wiql",
    route_template="{project}/{team}/_apis/{area}/{resource}/{id}",
    resource_version=2,
)
WORK_ITEMS: Final = Location(
    id="72c7ddf8-2cdc-4f60-90cd-ab71c14a399b",
    area="wit",
    resource_name="workItems",
    route_template="{project}/_apis/{area}/{resource}/{id}",
    resource_version=3,
)
WORK_ITEMS_CREATE: Final = Location(
    id="62d3d110-0047-428c-ad3c-4fe872c91c74",
    area="wit",
    resource_name="workItems",
    route_template="{project}/_apis/{area}/{resource}/${type}",
    resource_version=3,
    project_required=True,
)
WORK_ITEM_TYPES: Final = Location(
    id="7c8d7a76-4a09-43e8-b5df-bd792f4ac6aa",
    area="wit",
    resource_name="workItemTypes",
    route_template="{project}/_apis/{area}/{resource}/{type}",
    resource_version=2,
    project_required=True,
)
WORK_ITEM_TYPE_STATES: Final = Location(
    id="7c9d7a76-4a09-43e8-b5df-bd792f4ac6aa",
    area="wit",
    resource_name="states",
    route_template="{project}/_apis/{area}/workitemtypes/{type}/{resource}",
    resource_version=1,
    project_required=True,
)

# Security -------------------------------------------------------------------------------------------------------
SECURITY_NAMESPACES: Final = Location(
    id="ce7b9f95-fde9-4be8-a86d-83b366f0b87a",
    area="Security",
    resource_name="SecurityNamespaces",
    route_template="_apis/{resource}/{securityNamespaceId}",
    resource_version=1,
)
PERMISSION_EVALUATION_BATCH: Final = Location(
    id="cf1faa59-1b63-4448-bf04-13d981a46f5d",
    area="Security",
    resource_name="PermissionEvaluationBatch",
    route_template="_apis/{area}/{resource}",
    resource_version=1,
)

# Profile (served under the vssps prefix) ------------------------------------------------------------------------
PROFILES: Final = Location(
    id="f83735dc-483f-4238-a291-d45f6080a9af",
    area="Profile",
    resource_name="Profiles",
    route_template="_apis/{area}/{resource}/{id}",
    resource_version=3,
    released_version="0.0",
)

ORGANIZATION_LOCATIONS: Final = (
    RESOURCE_AREAS,
    CONNECTION_DATA,
    PROJECTS,
    REPOSITORIES,
    ITEMS,
    REFS,
    COMMITS,
    BRANCH_STATS,
    STATUSES,
    PULL_REQUESTS,
    PULL_REQUESTS_BY_PROJECT,
    PULL_REQUEST_BY_ID,
    PULL_REQUEST_LABELS,
    PULL_REQUEST_THREADS,
    PULL_REQUEST_THREAD_COMMENTS,
    PULL_REQUEST_REVIEWERS,
    POLICY_CONFIGURATIONS,
    POLICY_EVALUATIONS,
    WIQL,
    WORK_ITEMS,
    WORK_ITEMS_CREATE,
    WORK_ITEM_TYPES,
    WORK_ITEM_TYPE_STATES,
    SECURITY_NAMESPACES,
    PERMISSION_EVALUATION_BATCH,
)
VSSPS_LOCATIONS: Final = (RESOURCE_AREAS, CONNECTION_DATA, PROFILES)

# Every area azure-devops-node-api 17 can look up, so that a client of an area the double does not implement still
# gets a URL, and its first request (OPTIONS _apis/<area>) shows up among the unknown routes.
_ORGANIZATION_AREAS: Final = {
    "79134c72-4a58-4b42-976c-04e7115f32bf": "core",
    "4e080c62-fa21-4fbc-8fef-2a10a2b38049": "git",
    "fb13a388-40dd-4a04-b530-013a739c72ef": "policy",
    "5264459e-e5e0-4bd8-b118-0985e68a4ec5": "wit",
    "1d4f49f9-02b9-4e26-b826-2cdb6195f2a9": "work",
    "965220d5-5bb9-42cf-8d67-9b146df2a5a4": "build",
    "efc2f575-36ef-48e9-b672-0c6fb4a48ac5": "Release",
    "a85b8835-c1a1-4aac-ae97-1c3d0ba72dbd": "distributedtask",
    "1814ab31-2f4f-4a9f-8761-f4d77dc5a5d7": "serviceendpoint",
    "8aa40520-446d-40e6-89f6-9c9f9ce44c48": "tfvc",
    "bf7d82a0-8aa5-4613-94ef-6172a5ea01f3": "wiki",
    "c2aa639c-3ccc-4740-b3b6-ce2a1e1d984e": "Test",
    "c83eaf52-edf3-4034-ae11-17d38f25404c": "testresults",
    "e4c27205-9d23-4c98-b958-d798bc3f9cd4": "testplan",
    "31c84e0a-3ece-48fd-a29d-100849af99ba": "Dashboard",
    "6c2b0933-3600-42ae-bf8b-93d4f7e83594": "ExtensionManagement",
    "7658fa33-b1bf-4580-990f-fac5896773d3": "projectanalysis",
    "0f2ca920-f269-4545-b1f4-5b4173aa784e": "alert",
    "f101720c-9790-45a6-9fb3-494a09fddeeb": "Management",
}
_VSSPS_AREAS: Final = {"8ccfef3d-2b87-4e99-8ccb-66e343d2daa8": "Profile"}


def resource_areas(request: Request) -> Response:
    site = request.site
    areas = [
        {"id": area_id, "name": name, "locationUrl": site.organization_url}
        for area_id, name in _ORGANIZATION_AREAS.items()
    ]
    areas += [{"id": area_id, "name": name, "locationUrl": site.vssps_url} for area_id, name in _VSSPS_AREAS.items()]
    wanted = request.value("areaId")
    if wanted is not None:
        found = [area for area in areas if area["id"] == wanted.lower() or area["name"].lower() == wanted.lower()]
        if not found:
            raise UnknownRoute(f"resource area {wanted}")
        return Response.ok(found[0])
    return Response.collection(areas)


def options_handler(locations: tuple[Location, ...]) -> Handler:
    """``OPTIONS _apis/<area>``: the resource locations of one area, from ``locations``."""

    def answer(request: Request) -> Response:
        area = request.required("areaName").lower()
        found = [location.describe() for location in locations if location.area.lower() == area]
        if not found:
            raise UnknownRoute(f"area {area}")
        return Response.collection(found)

    return answer


def connection_data(request: Request) -> Response:
    caller = request.caller
    user = {
        **identity_ref(request.site, caller),
        "providerDisplayName": caller.display_name,
        "isActive": True,
        "properties": {"Account": {"$type": "System.String", "$value": caller.unique_name}},
        "resourceVersion": 2,
        "metaTypeId": 255,
        "subjectDescriptor": f"aadsp.{caller.oid}",
    }
    return Response.json(
        HTTPStatus.OK,
        {
            "authenticatedUser": user,
            "authorizedUser": user,
            "instanceId": request.state.organization_id,
            "deploymentId": request.state.organization_id,
            "deploymentType": "hosted",
            "locationServiceData": {
                "serviceOwner": "00025394-6065-48ca-87d9-7f5672854ef7",
                "defaultAccessMappingMoniker": "PublicAccessMapping",
                "lastChangeId": 1,
                "lastChangeId64": 1,
            },
        },
    )

"""The double's REST routes, in the order they are tried: more specific templates before ones they would
shadow (a trailing ``{value}`` is optional, so ``pullRequests/{pullRequestId}`` also matches ``pullRequests``)."""

from __future__ import annotations

from typing import Final

from . import identity_api, locations, policy_api, pulls_api, repos_api, wit_api
from .routing import Route

_OPTIONS_TEMPLATE: Final = "{project}/_apis/{areaName}"

ORGANIZATION_ROUTES: Final = (
    Route(
        method="OPTIONS",
        template=_OPTIONS_TEMPLATE,
        handler=locations.options_handler(locations.ORGANIZATION_LOCATIONS),
    ),
    Route.at(locations.RESOURCE_AREAS, "GET", locations.resource_areas),
    Route.at(locations.CONNECTION_DATA, "GET", locations.connection_data),
    Route.at(locations.PROJECTS, "GET", repos_api.get_projects),
    Route.at(locations.SECURITY_NAMESPACES, "GET", identity_api.security_namespaces),
    Route.at(locations.PERMISSION_EVALUATION_BATCH, "POST", identity_api.permission_evaluation_batch),
    Route.at(locations.REPOSITORIES, "GET", repos_api.get_repositories),
    Route.at(locations.ITEMS, "GET", repos_api.get_item),
    Route.at(locations.REFS, "GET", repos_api.get_refs),
    Route.at(locations.REFS, "POST", repos_api.update_refs),
    Route.at(locations.BRANCH_STATS, "GET", repos_api.get_branch_stats),
    Route.at(locations.STATUSES, "GET", repos_api.get_statuses),
    Route.at(locations.STATUSES, "POST", repos_api.create_status),
    Route.at(locations.COMMITS, "GET", repos_api.get_commits),
    Route.at(locations.PULL_REQUEST_LABELS, "GET", pulls_api.get_labels),
    Route.at(locations.PULL_REQUEST_LABELS, "POST", pulls_api.create_label),
    Route.at(locations.PULL_REQUEST_LABELS, "DELETE", pulls_api.delete_label),
    Route.at(locations.PULL_REQUEST_THREAD_COMMENTS, "POST", pulls_api.create_comment),
    Route.at(locations.PULL_REQUEST_THREAD_COMMENTS, "PATCH", pulls_api.update_comment),
    Route.at(locations.PULL_REQUEST_THREADS, "GET", pulls_api.threads),
    Route.at(locations.PULL_REQUEST_THREADS, "POST", pulls_api.create_thread),
    Route.at(locations.PULL_REQUEST_THREADS, "PATCH", pulls_api.update_thread),
    Route.at(locations.PULL_REQUEST_REVIEWERS, "GET", pulls_api.get_reviewers),
    Route.at(locations.PULL_REQUEST_REVIEWERS, "PUT", pulls_api.put_reviewer),
    Route.at(locations.PULL_REQUESTS, "GET", pulls_api.pull_requests),
    Route.at(locations.PULL_REQUESTS, "POST", pulls_api.create_pull_request),
    Route.at(locations.PULL_REQUESTS, "PATCH", pulls_api.update_pull_request),
    Route.at(locations.PULL_REQUESTS_BY_PROJECT, "GET", pulls_api.pull_requests_by_project),
    Route.at(locations.PULL_REQUEST_BY_ID, "GET", pulls_api.pull_request_by_id),
    Route.at(locations.POLICY_CONFIGURATIONS, "GET", policy_api.policy_configurations),
    Route.at(locations.POLICY_EVALUATIONS, "GET", policy_api.policy_evaluations),
    Route.at(locations.WIQL, "POST", wit_api.query_by_wiql),
    Route.at(locations.WORK_ITEMS_CREATE, "POST", wit_api.create_work_item),
    Route.at(locations.WORK_ITEMS, "GET", wit_api.get_work_items),
    Route.at(locations.WORK_ITEMS, "PATCH", wit_api.update_work_item),
    Route.at(locations.WORK_ITEM_TYPE_STATES, "GET", wit_api.work_item_type_states),
    Route.at(locations.WORK_ITEM_TYPES, "GET", wit_api.work_item_types),
    # Outside the double's location table: the runner calls it by URL (its location id is not needed).
    Route(method="GET", template="{project}/_apis/wit/tags", handler=wit_api.tags, project_required=True),
)

VSSPS_ROUTES: Final = (
    Route(method="OPTIONS", template=_OPTIONS_TEMPLATE, handler=locations.options_handler(locations.VSSPS_LOCATIONS)),
    Route.at(locations.RESOURCE_AREAS, "GET", locations.resource_areas),
    Route.at(locations.CONNECTION_DATA, "GET", locations.connection_data),
    Route.at(locations.PROFILES, "GET", identity_api.profile),
)

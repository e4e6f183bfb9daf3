"""Who the caller is and what it may do: the profile, security namespaces and permission evaluation.

``GET _apis/profile/profiles/me`` is served under the ``vssps/`` prefix (for
``https://app.vssps.visualstudio.com/``). Permission evaluation answers from the grants a test configured
(``AzureDevOpsDouble.grant``); only the Git Repositories namespace is known, any other namespace evaluates to
false. Left out: other profile ids than ``me`` and the caller's own id, avatars and attributes, ACL reads and
writes, and evaluating on behalf of another identity.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from .routing import ApiError, Request, Response
from .security import namespace_descriptions


def profile(request: Request) -> Response:
    caller = request.caller
    wanted = request.required("id").lower()
    if wanted not in ("me", caller.id):
        raise ApiError(HTTPStatus.NOT_FOUND, "ProfileNotFoundException", f"Profile {wanted} was not found.")
    return Response.ok(
        {
            "displayName": caller.display_name,
            "publicAlias": caller.id,
            "emailAddress": caller.unique_name,
            "timeStamp": "2024-01-01T00:00:00.000+00:00",
            "id": caller.id,
            "coreRevision": 1,
            "revision": 1,
        }
    )


def security_namespaces(request: Request) -> Response:
    wanted = request.value("securityNamespaceId")
    namespaces = namespace_descriptions()
    if wanted is not None:
        namespaces = [n for n in namespaces if n["namespaceId"] == wanted.lower()]
    return Response.collection(namespaces)


def permission_evaluation_batch(request: Request) -> Response:
    batch: dict[str, Any] = request.json() or {}
    evaluations = batch.get("evaluations")
    if not isinstance(evaluations, list):
        raise ApiError(
            HTTPStatus.BAD_REQUEST, "ArgumentNullException", "Value cannot be null. Parameter name: evaluations"
        )
    known = {namespace["namespaceId"] for namespace in namespace_descriptions()}
    answered = []
    for evaluation in evaluations:
        namespace = str(evaluation.get("securityNamespaceId", "")).lower()
        wanted = int(evaluation.get("permissions", 0))
        token = str(evaluation.get("token", ""))
        allowed = request.state.granted(request.caller.oid, token, namespace=namespace)
        # An identity without a grant is refused, as by the service: no administrators, no deny entries here.
        answered.append({**evaluation, "value": namespace in known and wanted & allowed == wanted})
    return Response.ok(
        {"evaluations": answered, "alwaysAllowAdministrators": bool(batch.get("alwaysAllowAdministrators"))}
    )

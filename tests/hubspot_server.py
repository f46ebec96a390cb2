"""A local stand-in for the part of HubSpot's API leadflow uses, for tests: FastAPI on
127.0.0.1 (a socket bound to port 0 before the server starts, so its port is known and no
request can come too early), with every request body and every response body checked
against HubSpot's published schemas as the official client ships them (its model classes'
`openapi_types`, `attribute_map` and their own required-field and enum checks). A body that
does not fit is a 400 (request) or a 500 (response), and each is kept in `violations`, which
the tests assert empty. Failures (429 with Retry-After, 5xx, even after the write was done)
are scripted per method and path.

What it is not: HubSpot. It implements only the endpoints below, exact-match (EQ) search
filters, and the few rules leadflow relies on (unknown properties and owners refused, one
contact per email with 409 naming the existing id).
"""

from __future__ import annotations

import itertools
import re
import socket
import sys
import threading
from dataclasses import dataclass, field
from datetime import UTC, datetime
from types import ModuleType
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from hubspot.crm.associations.v4 import models as association_models
from hubspot.crm.companies import models as company_models
from hubspot.crm.contacts import models as contact_models
from hubspot.crm.deals import models as deal_models
from hubspot.crm.owners import models as owner_models
from hubspot.crm.properties import models as property_models

OBJECT_MODELS: dict[str, ModuleType] = {"companies": company_models,
                                        "contacts": contact_models, "deals": deal_models}
STANDARD_PROPERTIES = {
    "companies": {"name", "domain", "country", "numberofemployees", "annualrevenue",
                  "industry", "city", "hubspot_owner_id"},
    "contacts": {"email", "firstname", "lastname", "jobtitle", "phone", "company",
                 "lifecyclestage", "hubspot_owner_id"},
    "deals": {"dealname", "pipeline", "dealstage", "amount", "closedate", "hubspot_owner_id"},
}
READ_ONLY = {"hs_object_id", "createdate", "lastmodifieddate"}
# HubSpot's default association type ids (HUBSPOT_DEFINED) for the pairs leadflow makes
DEFAULT_ASSOCIATION = {("contacts", "companies"): 1, ("deals", "contacts"): 3,
                       ("deals", "companies"): 5}
_SCALARS: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float),
                                         "bool": (bool,)}


def schema_errors(value: Any, kind: str, models: ModuleType, where: str = "body") -> list[str]:
    """What in `value` (parsed JSON) does not fit the client's type `kind` (an
    `openapi_types` string: 'str', 'list[X]', 'dict[str, X]', a model class name)."""
    if value is None:
        return []  # whether it may be null is the model's own check (constructing it)
    if kind in _SCALARS:
        ok = isinstance(value, _SCALARS[kind]) and (kind == "bool"
                                                    or not isinstance(value, bool))
        return [] if ok else [f"{where}: {value!r} is not {kind}"]
    if kind in ("datetime", "date"):
        try:
            datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return [f"{where}: {value!r} is not an ISO {kind}"]
        return [] if isinstance(value, str) else [f"{where}: {value!r} is not a string"]
    if kind == "object":
        return []
    if found := re.fullmatch(r"list\[(.+)\]", kind):
        if not isinstance(value, list):
            return [f"{where}: not a list"]
        return [e for i, v in enumerate(value)
                for e in schema_errors(v, found.group(1), models, f"{where}[{i}]")]
    if found := re.fullmatch(r"dict[\[(]str, (.+)[\])]", kind):
        if not isinstance(value, dict):
            return [f"{where}: not an object"]
        return [e for k, v in value.items()
                for e in schema_errors(v, found.group(1), models, f"{where}.{k}")]
    klass = getattr(models, kind)
    if not isinstance(value, dict):
        return [f"{where}: not a {kind} object"]
    by_json = {json_key: attr for attr, json_key in klass.attribute_map.items()}
    errors = [f"{where}.{k}: not a field of {kind}" for k in value if k not in by_json]
    for key, item in value.items():
        if key in by_json:
            errors += schema_errors(item, klass.openapi_types[by_json[key]], models,
                                    f"{where}.{key}")
    try:  # the model's own checks, switched on (the client ships them off): required, enums
        checks = sys.modules[klass.__module__].Configuration()
        checks.client_side_validation = True
        klass(**{by_json[k]: v for k, v in value.items() if k in by_json},
              local_vars_configuration=checks)
    except (ValueError, TypeError) as exc:
        errors.append(f"{where}: {kind}: {exc}")
    return errors


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


@dataclass
class Fault:
    method: str
    path: re.Pattern[str]
    status: int
    times: int
    retry_after: str | None = None
    after_write: bool = False  # do the request's work, then answer with the fault


@dataclass
class FakeHubSpot:
    """The server's state, what it was asked, and the scripted faults."""

    token: str = "test-token"
    objects: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {t: {} for t in OBJECT_MODELS})
    owners: list[dict[str, Any]] = field(default_factory=list)
    properties: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {t: {} for t in OBJECT_MODELS})
    groups: dict[str, dict[str, dict[str, Any]]] = field(
        default_factory=lambda: {t: {} for t in OBJECT_MODELS})
    associations: set[tuple[str, str, str, str]] = field(default_factory=set)
    requests: list[tuple[str, str, int]] = field(default_factory=list)
    violations: list[str] = field(default_factory=list)
    faults: list[Fault] = field(default_factory=list)
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1001))
    url: str = ""

    # ---- what a test does -------------------------------------------------------------

    def add_owner(self, email: str, first: str = "", last: str = "") -> str:
        owner_id = str(next(self.ids))
        self.owners.append({"id": owner_id, "email": email, "firstName": first,
                            "lastName": last, "userId": int(owner_id), "type": "PERSON",
                            "archived": False, "createdAt": now_iso(),
                            "updatedAt": now_iso()})
        return owner_id

    def fail(self, method: str, path: str, status: int, times: int = 1,
             retry_after: str | None = None, after_write: bool = False) -> None:
        self.faults.append(Fault(method, re.compile(path), status, times, retry_after,
                                 after_write))

    def edit(self, object_type: str, object_id: str, **properties: str) -> None:
        """A person's edit in HubSpot's own UI."""
        self.objects[object_type][object_id]["properties"].update(properties)

    def find(self, object_type: str, **properties: str) -> list[dict[str, Any]]:
        return [o for o in self.objects[object_type].values()
                if all(o["properties"].get(k) == v for k, v in properties.items())]

    def served(self, method: str, pattern: str, status: int | None = None) -> int:
        return sum(1 for m, p, s in self.requests if m == method and re.search(pattern, p)
                   and (status is None or s == status))

    # ---- the API ---------------------------------------------------------------------

    def app(self) -> FastAPI:
        app = FastAPI()
        models_of = {**OBJECT_MODELS, "owners": owner_models,
                     "associations": association_models, "properties": property_models}

        def reply(status: int, body: Any, kind: str | None, models: ModuleType) -> Response:
            if kind is not None:
                errors = schema_errors(body, kind, models, "response")
                if errors:
                    self.violations += errors
                    return JSONResponse(error("INTERNAL", "; ".join(errors)), 500)
            return JSONResponse(body, status)

        def error(category: str, message: str) -> dict[str, Any]:
            return {"status": "error", "category": category, "message": message,
                    "correlationId": "00000000-0000-0000-0000-000000000000"}

        def refuse(status: int, category: str, message: str) -> Response:
            return JSONResponse(error(category, message), status)

        async def body_of(request: Request, kind: str, models: ModuleType) -> Any:
            body = await request.json()
            errors = schema_errors(body, kind, models, "request")
            if errors:
                self.violations += errors
                raise ValueError("; ".join(errors))
            return body

        @app.exception_handler(ValueError)
        async def invalid(request: Request, exc: ValueError) -> Response:
            return refuse(400, "VALIDATION_ERROR", str(exc))

        @app.middleware("http")
        async def gate(request: Request, call_next: Any) -> Response:
            method, path = request.method, request.url.path
            if request.headers.get("authorization") != f"Bearer {self.token}":
                response: Response = refuse(401, "INVALID_AUTHENTICATION", "bad token")
            else:
                fault = next((f for f in self.faults if f.times > 0 and f.method == method
                              and f.path.search(path)), None)
                if fault is not None:
                    fault.times -= 1
                    if fault.after_write:
                        await call_next(request)
                    response = refuse(fault.status, "RATE_LIMITS" if fault.status == 429
                                      else "INTERNAL_ERROR", f"scripted {fault.status}")
                    if fault.retry_after is not None:
                        response.headers["Retry-After"] = fault.retry_after
                else:
                    response = await call_next(request)
            self.requests.append((method, path, response.status_code))
            return response

        def public(object_type: str, object_id: str, names: list[str] | None = None,
                   ) -> dict[str, Any]:
            stored = self.objects[object_type][object_id]
            props = stored["properties"]
            shown = props if names is None else {
                k: props.get(k) for k in {*names, *READ_ONLY}}
            return {"id": object_id, "properties": shown, "createdAt": stored["createdAt"],
                    "updatedAt": stored["updatedAt"], "archived": False}

        def unwritable(object_type: str, props: dict[str, str]) -> str | None:
            known = STANDARD_PROPERTIES[object_type] | set(self.properties[object_type])
            unknown = sorted(set(props) - known)
            if unknown:
                return f"Property values were not valid: {unknown} do not exist"
            owner = props.get("hubspot_owner_id")
            if owner and owner not in {o["id"] for o in self.owners}:
                return f"{owner} is not a valid owner id"
            return None

        @app.get("/crm/v3/owners/")
        async def owners(limit: int = 100, after: str | None = None) -> Response:
            start = int(after or 0)
            page = self.owners[start:start + limit]
            more = start + limit < len(self.owners)
            body: dict[str, Any] = {"results": page}
            if more:
                body["paging"] = {"next": {"after": str(start + limit)}}
            return reply(200, body, "CollectionResponsePublicOwnerForwardPaging",
                         owner_models)

        @app.post("/crm/v3/objects/{object_type}")
        async def create(object_type: str, request: Request) -> Response:
            models = models_of[object_type]
            body = await body_of(request, "SimplePublicObjectInputForCreate", models)
            props = body["properties"]
            if problem := unwritable(object_type, props):
                return refuse(400, "VALIDATION_ERROR", problem)
            if object_type == "contacts" and props.get("email"):
                same = self.find_email(props["email"])
                if same:
                    return refuse(409, "CONFLICT",
                                  f"Contact already exists. Existing ID: {same}")
            object_id = str(next(self.ids))
            stamp = now_iso()
            self.objects[object_type][object_id] = {
                "properties": {**props, "hs_object_id": object_id, "createdate": stamp,
                               "lastmodifieddate": stamp},
                "createdAt": stamp, "updatedAt": stamp}
            return reply(201, public(object_type, object_id), "SimplePublicObject", models)

        @app.patch("/crm/v3/objects/{object_type}/{object_id}")
        async def update(object_type: str, object_id: str, request: Request) -> Response:
            models = models_of[object_type]
            body = await body_of(request, "SimplePublicObjectInput", models)
            if object_id not in self.objects[object_type]:
                return refuse(404, "OBJECT_NOT_FOUND", "resource not found")
            if problem := unwritable(object_type, body["properties"]):
                return refuse(400, "VALIDATION_ERROR", problem)
            stored = self.objects[object_type][object_id]
            stored["properties"].update(body["properties"])
            stored["updatedAt"] = stored["properties"]["lastmodifieddate"] = now_iso()
            return reply(200, public(object_type, object_id), "SimplePublicObject", models)

        @app.post("/crm/v3/objects/{object_type}/search")
        async def search(object_type: str, request: Request) -> Response:
            models = models_of[object_type]
            body = await body_of(request, "PublicObjectSearchRequest", models)
            known = STANDARD_PROPERTIES[object_type] | set(self.properties[object_type])
            matches = []
            for object_id, stored in self.objects[object_type].items():
                for group in body.get("filterGroups") or [{"filters": []}]:
                    for f in group["filters"]:
                        if f["operator"] != "EQ" or f["propertyName"] not in known:
                            return refuse(400, "VALIDATION_ERROR", f"unsupported filter {f}")
                    if all(str(stored["properties"].get(f["propertyName"], "")).lower()
                           == str(f.get("value", "")).lower() for f in group["filters"]):
                        matches.append(object_id)
                        break
            limit = int(body.get("limit") or 10)
            results = [public(object_type, i, body.get("properties") or [])
                       for i in matches[:limit]]
            return reply(200, {"total": len(matches), "results": results},
                         "CollectionResponseWithTotalSimplePublicObjectForwardPaging", models)

        @app.post("/crm/v3/objects/{object_type}/batch/read")
        async def batch_read(object_type: str, request: Request) -> Response:
            models = models_of[object_type]
            body = await body_of(request, "BatchReadInputSimplePublicObjectId", models)
            ids = [i["id"] for i in body["inputs"] if i["id"] in self.objects[object_type]]
            stamp = now_iso()
            return reply(200, {"status": "COMPLETE", "startedAt": stamp, "completedAt": stamp,
                               "results": [public(object_type, i, body["properties"])
                                           for i in ids]},
                         "BatchResponseSimplePublicObject", models)

        @app.put("/crm/v4/objects/{from_type}/{from_id}/associations/default/"
                 "{to_type}/{to_id}")
        async def associate(from_type: str, from_id: str, to_type: str,
                            to_id: str) -> Response:
            if (from_id not in self.objects[from_type]
                    or to_id not in self.objects[to_type]):
                return refuse(404, "OBJECT_NOT_FOUND", "resource not found")
            self.associations.add((from_type, from_id, to_type, to_id))
            spec = {"associationCategory": "HUBSPOT_DEFINED",
                    "associationTypeId": DEFAULT_ASSOCIATION[(from_type, to_type)]}
            stamp = now_iso()
            return reply(200, {"status": "COMPLETE", "startedAt": stamp, "completedAt": stamp,
                               "results": [{"from": {"id": from_id}, "to": {"id": to_id},
                                            "associationSpec": spec}]},
                         "BatchResponsePublicDefaultAssociation", association_models)

        @app.get("/crm/v3/properties/{object_type}/groups")
        async def groups(object_type: str) -> Response:
            return reply(200, {"results": list(self.groups[object_type].values())},
                         "CollectionResponsePropertyGroupNoPaging", property_models)

        @app.post("/crm/v3/properties/{object_type}/groups")
        async def create_group(object_type: str, request: Request) -> Response:
            body = await body_of(request, "PropertyGroupCreate", property_models)
            group = {"name": body["name"], "label": body["label"],
                     "displayOrder": body.get("displayOrder", -1), "archived": False}
            self.groups[object_type][body["name"]] = group
            return reply(201, group, "PropertyGroup", property_models)

        @app.get("/crm/v3/properties/{object_type}")
        async def properties(object_type: str) -> Response:
            return reply(200, {"results": list(self.properties[object_type].values())},
                         "CollectionResponsePropertyNoPaging", property_models)

        @app.post("/crm/v3/properties/{object_type}")
        async def create_property(object_type: str, request: Request) -> Response:
            body = await body_of(request, "PropertyCreate", property_models)
            if body["groupName"] not in self.groups[object_type]:
                return refuse(400, "VALIDATION_ERROR", f"no group {body['groupName']}")
            if body["name"] in self.properties[object_type]:
                return refuse(409, "OBJECT_ALREADY_EXISTS", f"{body['name']} exists")
            prop = {"name": body["name"], "label": body["label"], "type": body["type"],
                    "fieldType": body["fieldType"], "groupName": body["groupName"],
                    "description": body.get("description") or "", "options": [],
                    "createdAt": now_iso(), "updatedAt": now_iso(), "hidden": False,
                    "hubspotDefined": False}
            self.properties[object_type][body["name"]] = prop
            return reply(201, prop, "ModelProperty", property_models)

        return app

    def find_email(self, email: str) -> str | None:
        return next((i for i, o in self.objects["contacts"].items()
                     if str(o["properties"].get("email", "")).lower() == email.lower()), None)


class HubSpotServer:
    """FakeHubSpot served on 127.0.0.1 in a thread of this process."""

    def __init__(self) -> None:
        self.state = FakeHubSpot()
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.socket.listen(64)  # connections wait in the backlog until uvicorn accepts
        port = self.socket.getsockname()[1]
        self.state.url = f"http://127.0.0.1:{port}"
        self.server = uvicorn.Server(uvicorn.Config(self.state.app(), log_level="warning",
                                                    lifespan="off"))
        self.thread = threading.Thread(target=self.server.run,
                                       kwargs={"sockets": [self.socket]}, daemon=True)

    def __enter__(self) -> FakeHubSpot:
        self.thread.start()
        return self.state

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)
        self.socket.close()

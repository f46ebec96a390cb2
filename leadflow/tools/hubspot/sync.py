"""Keeping HubSpot in step with leadflow: each qualified lead's company (by domain), contact
(by email) and, for hot leads, deal, with leadflow's decisions (tier, scores, owner,
reasons) in properties of its own; and the company owners changed in HubSpot read back
into the accounts routing's account-owner rule reads.

Idempotent by the mapping table (`hubspot_objects`): a record already mapped is updated by
its HubSpot id; one not yet mapped is first looked for by its key (a company's domain, a
contact's email, a deal's `leadflow_lead_id`), so a resent lead — or a retry after a create
whose answer was lost — updates the object instead of making a second one.

Owners: a rep is a HubSpot owner with the same email. An object's `hubspot_owner_id` is
written when it is created and when leadflow's owner changes; an owner someone set in
HubSpot stays until leadflow itself reassigns the lead.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from leadflow.clock import Clock
from leadflow.config import CONFIG_DIR, read_yaml
from leadflow.settings import HubSpotSettings
from leadflow.tools.crm import CrmStore
from leadflow.tools.hubspot.client import HubSpotError, Sleep, call, existing_id, open_client
from leadflow.tools.reps import RepDirectory

# leadflow's own properties on contacts and deals: (name, label, type, field type)
PROPERTIES = (
    ("leadflow_lead_id", "leadflow lead id", "string", "text"),
    ("leadflow_status", "leadflow status", "string", "text"),
    ("leadflow_tier", "leadflow tier", "string", "text"),
    ("leadflow_score", "leadflow score (0-100)", "number", "number"),
    ("leadflow_framework", "leadflow qualification framework", "string", "text"),
    ("leadflow_budget", "leadflow budget score", "number", "number"),
    ("leadflow_authority", "leadflow authority score", "number", "number"),
    ("leadflow_need", "leadflow need score", "number", "number"),
    ("leadflow_timeline", "leadflow timeline score", "number", "number"),
    ("leadflow_owner", "leadflow owner (rep id)", "string", "text"),
    ("leadflow_reasons", "leadflow reasons", "string", "textarea"),
)
DECISION_TYPES = ("contacts", "deals")  # the object types leadflow's properties are made on
OWNER = "hubspot_owner_id"
PAGE = 100  # HubSpot's largest page and batch


@cache
def hubspot_config() -> dict[str, Any]:
    return read_yaml(CONFIG_DIR / "hubspot.yaml")


@dataclass
class PullReport:
    read: int = 0  # mapped companies read back
    changed: list[tuple[int, str | None]] = field(default_factory=list)  # (account, rep)
    unknown_owners: set[str] = field(default_factory=set)  # HubSpot owners who are no rep


class HubSpotSync:
    """One sync session: the client, HubSpot's owners and leadflow's properties, read once."""

    def __init__(self, crm: CrmStore, reps: RepDirectory, clock: Clock,
                 settings: HubSpotSettings | None = None, sleep: Sleep = time.sleep) -> None:
        self.crm, self.reps, self.clock = crm, reps, clock
        self.settings = settings or HubSpotSettings.from_env()
        self.config = hubspot_config()
        self.client = open_client(self.settings, self.config["retry"], sleep)
        self._owners: dict[str, str] | None = None  # email → owner id
        self._properties_ready = False

    def _call(self, fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return call(fn, *args, timeout_s=self.settings.timeout_s, **kwargs)

    # ---- owners and properties, once per session -------------------------------------

    def owners(self) -> dict[str, str]:
        """HubSpot's owners by lower-cased email."""
        if self._owners is None:
            owners: dict[str, str] = {}
            after: str | None = None
            while True:
                page = self._call(self.client.crm.owners.owners_api.get_page, limit=PAGE,
                                  **({"after": after} if after else {}))
                owners.update({o.email.lower(): str(o.id) for o in page.results if o.email})
                after = page.paging.next.after if page.paging and page.paging.next else None
                if not after:
                    break
            self._owners = owners
        return self._owners

    def owner_of(self, rep_id: str | None) -> str | None:
        """The HubSpot owner of a rep or manager (by email), if they are one."""
        person = self.reps.person(rep_id) if rep_id else None
        email = getattr(person, "email", None)
        return self.owners().get(email.lower()) if email else None

    def rep_of(self, owner_id: str) -> str | None:
        """The rep or manager a HubSpot owner is (by email)."""
        emails = {v: k for k, v in self.owners().items()}
        email = emails.get(owner_id)
        people = [*self.reps.reps, *self.reps.config.managers.values()]
        return next((p.id for p in people if email and p.email.lower() == email), None)

    def ensure_properties(self) -> None:
        """leadflow's property group and properties on contacts and deals (made if missing)."""
        if self._properties_ready:
            return
        from hubspot.crm.properties import PropertyCreate, PropertyGroupCreate

        group = self.config["property_group"]
        props = self.client.crm.properties
        for object_type in DECISION_TYPES:
            groups = self._call(props.groups_api.get_all, object_type)
            if group["name"] not in {g.name for g in groups.results}:
                self._call(props.groups_api.create, object_type, PropertyGroupCreate(
                    name=group["name"], label=group["label"], display_order=-1))
            have = {p.name for p in self._call(props.core_api.get_all, object_type).results}
            for name, label, kind, field_type in PROPERTIES:
                if name not in have:
                    self._call(props.core_api.create, object_type, PropertyCreate(
                        name=name, label=label, type=kind, field_type=field_type,
                        group_name=group["name"]))
        self._properties_ready = True

    # ---- pushing a lead --------------------------------------------------------------

    def sync_lead(self, lead_id: str) -> dict[str, str]:
        """Bring the lead's company, contact and (hot) deal up to date in HubSpot; returns
        the HubSpot ids by object type ({} for a lead that is gone or erased)."""
        view = self.crm.hubspot_view(lead_id)
        if view is None or view["lead"]["tier"] is None:
            return {}
        self.ensure_properties()
        lead, contact, account = view["lead"], view["contact"], view["account"]
        decisions = decision_properties(lead)
        owner = self.owner_of(lead["rep_id"])
        ids: dict[str, str] = {}
        if account is not None:
            ids["companies"] = self._upsert(
                "companies", str(account["id"]), company_properties(account),
                ("domain", account["domain"]), self.owner_of(account["owner_rep_id"]))
        if contact is not None:
            ids["contacts"] = self._upsert(
                "contacts", str(contact["id"]), {**contact_properties(contact, account),
                                                 **decisions},
                ("email", contact["email"]), owner)
        # a hot lead's deal; once made, it follows the lead (a tier that fell shows there)
        if (lead["tier"] in self.config["deal_tiers"]
                or self.crm.hubspot_object("deals", lead_id) is not None):
            ids["deals"] = self._upsert(
                "deals", lead_id, {**self._deal_properties(lead, account), **decisions},
                ("leadflow_lead_id", lead_id), owner)
        for source, target in (("contacts", "companies"), ("deals", "contacts"),
                               ("deals", "companies")):
            if source in ids and target in ids:
                self._call(self.client.crm.associations.v4.basic_api.create_default,
                           source, ids[source], target, ids[target])
        return ids

    def _api(self, object_type: str) -> Any:
        return getattr(self.client.crm, object_type)

    def _upsert(self, object_type: str, leadflow_id: str, properties: dict[str, str],
                key: tuple[str, str | None], owner: str | None) -> str:
        mapped = self.crm.hubspot_object(object_type, leadflow_id)
        hubspot_id = mapped.hubspot_id if mapped else None
        write_owner = owner is not None and (mapped is None or mapped.owner_id != owner)
        if hubspot_id is None and key[1]:
            found = self._find(object_type, key[0], key[1])
            if found is not None:
                hubspot_id = found.id
                # someone's owner in HubSpot wins over ours on an object we did not make
                write_owner = write_owner and not (found.properties or {}).get(OWNER)
        values = {**properties, **({OWNER: owner} if write_owner and owner else {})}
        if hubspot_id is not None and not self._update(object_type, hubspot_id, values):
            hubspot_id = None  # deleted in HubSpot since: made again
            values = {**properties, **({OWNER: owner} if owner else {})}
        if hubspot_id is None:
            hubspot_id = self._create(object_type, values)
            write_owner = owner is not None
        stored_owner = owner if write_owner else (mapped.owner_id if mapped else owner)
        self.crm.map_hubspot_object(object_type, leadflow_id, hubspot_id, stored_owner,
                                    self.clock.now())
        return hubspot_id

    def _update(self, object_type: str, hubspot_id: str, values: dict[str, str]) -> bool:
        """Update the object; False when HubSpot no longer has it."""
        from hubspot.crm.objects import SimplePublicObjectInput

        try:
            self._call(self._api(object_type).basic_api.update, hubspot_id,
                       SimplePublicObjectInput(properties=values))
        except HubSpotError as error:
            if error.status == 404:
                return False
            raise
        return True

    def _create(self, object_type: str, values: dict[str, str]) -> str:
        from hubspot.crm.objects import SimplePublicObjectInputForCreate

        try:
            made = self._call(self._api(object_type).basic_api.create,
                              SimplePublicObjectInputForCreate(properties=values,
                                                               associations=[]))
            return str(made.id)
        except HubSpotError as error:
            known = existing_id(error)  # made meanwhile (the search index lags a little)
            if known is None:
                raise
            self._update(object_type, known, values)
            return known

    def _find(self, object_type: str, name: str, value: str) -> Any | None:
        from hubspot.crm.objects import Filter, FilterGroup, PublicObjectSearchRequest

        found = self._call(self._api(object_type).search_api.do_search,
                           PublicObjectSearchRequest(
                               filter_groups=[FilterGroup(filters=[Filter(
                                   property_name=name, operator="EQ", value=value)])],
                               properties=[name, OWNER], limit=1))
        return found.results[0] if found.results else None

    def _deal_properties(self, lead: dict[str, Any], account: dict[str, Any] | None,
                         ) -> dict[str, str]:
        deal = self.config["deal"]
        name = deal["name"].format(company=(account or {}).get("name") or "unknown company",
                                   tier=lead["tier"], lead_id=lead["id"])
        return {"dealname": name[:250], "pipeline": str(deal["pipeline"]),
                "dealstage": str(deal["dealstage"])}

    # ---- reading owners back ---------------------------------------------------------

    def pull_owners(self) -> PullReport:
        """Read the owner of every mapped company and make it its account's owner (by the
        owner's email); an owner who is no rep leaves the account as it is."""
        from hubspot.crm.companies import BatchReadInputSimplePublicObjectId, SimplePublicObjectId

        report = PullReport()
        self._owners = None  # owners may have been added since
        mapped = self.crm.hubspot_objects("companies")
        by_hubspot = {m.hubspot_id: (account, m) for account, m in mapped.items()}
        ids = sorted(by_hubspot)
        for start in range(0, len(ids), PAGE):
            batch = self._call(self.client.crm.companies.batch_api.read,
                               BatchReadInputSimplePublicObjectId(
                                   inputs=[SimplePublicObjectId(id=i)
                                           for i in ids[start:start + PAGE]],
                                   properties=[OWNER], properties_with_history=[]))
            for company in batch.results:
                account, known = by_hubspot[str(company.id)]
                report.read += 1
                owner = (company.properties or {}).get(OWNER) or None
                if owner == known.owner_id:
                    continue
                rep = self.rep_of(owner) if owner else None
                if owner and rep is None:
                    report.unknown_owners.add(owner)
                    continue
                if self.crm.set_account_owner(int(account), rep):
                    report.changed.append((int(account), rep))
                self.crm.map_hubspot_object("companies", account, known.hubspot_id, owner,
                                            self.clock.now())
        return report


def decision_properties(lead: dict[str, Any]) -> dict[str, str]:
    """leadflow's decisions about the lead as its properties."""
    outcome = lead.get("outcome") or {}
    bant = outcome.get("bant") or {}
    assignment = outcome.get("assignment") or {}
    criteria = {k: v for k, v in bant.items() if isinstance(v, dict) and "score" in v}
    reasons = [f"{lead['status']}: {lead.get('status_reason') or ''}".strip(": ")]
    if assignment.get("reason"):
        reasons.append(f"routing: {assignment['reason']}")
    reasons += [f"{name} {c['score']} ({c.get('band')}): {c.get('evidence') or ''}".rstrip(": ")
                for name, c in criteria.items()]
    values = {
        "leadflow_lead_id": lead["id"], "leadflow_status": lead["status"] or "",
        "leadflow_tier": lead["tier"] or "",
        "leadflow_score": "" if lead["bant_total"] is None else str(lead["bant_total"]),
        "leadflow_framework": str(bant.get("framework") or ""),
        "leadflow_owner": lead.get("rep_id") or assignment.get("rep_id") or "",
        "leadflow_reasons": "\n".join(reasons)[:65000],
    }
    for name in ("budget", "authority", "need", "timeline"):
        score = criteria.get(name, {}).get("score")
        values[f"leadflow_{name}"] = "" if score is None else str(score)
    return values


def company_properties(account: dict[str, Any]) -> dict[str, str]:
    values = {"name": account["name"], "domain": account.get("domain"),
              "country": account.get("country"),
              "numberofemployees": account.get("employees")}
    return {k: str(v) for k, v in values.items() if v not in (None, "")}


def contact_properties(contact: dict[str, Any], account: dict[str, Any] | None,
                       ) -> dict[str, str]:
    values = {"email": contact.get("email"), "firstname": contact.get("first_name"),
              "lastname": contact.get("last_name"), "jobtitle": contact.get("title"),
              "phone": contact.get("phone"), "company": (account or {}).get("name")}
    return {k: str(v) for k, v in values.items() if v not in (None, "")}

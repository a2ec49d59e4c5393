"""The directory: agencies, units, 24/7 points of contact and border liaison office pairs."""


import uuid
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, status

from sitcen.api.deps import BaseVersion, CurrentNode, DirectoryKeeper, Reader, sees_personal
from sitcen.operations.directory import (
    AgencyType,
    ContactPointCreate,
    OrganisationCreate,
    directory,
    liaison_pairs,
    save_contact_point,
    save_organisation,
)
from sitcen.store.journal import RecordKind
from sitcen.store.records import list_records

router = APIRouter(prefix="/directory", tags=["directory"])


@router.get("")
def read_directory(node: CurrentNode, user: Reader,
                   q: Annotated[str, Query(max_length=200)] = "",
                   agency_type: AgencyType | None = None,
                   country: Annotated[str | None, Query(pattern=r"^[A-Z]{2}$")] = None,
                   node_id: Annotated[str | None, Query(alias="node", max_length=64)] = None,
                   ) -> dict[str, Any]:
    """Search agencies and units (own and received) with their points of contact and BLO pairs"""
    found = directory(node.engine, query=q.strip(), agency_type=agency_type, country=country,
                      node=node_id, personal=sees_personal(user), at=datetime.now(UTC))
    pairs = liaison_pairs(list_records(node.engine, RecordKind.organisation, limit=100_000))
    return {"organisations": found, "liaison_pairs": pairs,
            "personal_shown": sees_personal(user)}


@router.get("/liaison-pairs")
def read_liaison_pairs(node: CurrentNode, _user: Reader) -> list[dict[str, Any]]:
    """Border liaison office pairs across each border, confirmed when both sides name each other"""
    return liaison_pairs(list_records(node.engine, RecordKind.organisation, limit=100_000))


@router.post("/organisations", status_code=status.HTTP_201_CREATED)
def create_organisation(item: OrganisationCreate, node: CurrentNode,
                        user: DirectoryKeeper) -> dict[str, Any]:
    """Enter an agency or one of its units (a record of this node)"""
    return save_organisation(node.engine, node.settings.node_id, item,
                             by=user.username).to_dict()


@router.put("/organisations/{record_id}")
def update_organisation(record_id: uuid.UUID, item: OrganisationCreate, node: CurrentNode,
                        user: DirectoryKeeper, base_version: BaseVersion = None
                        ) -> dict[str, Any]:
    """Change an agency or unit this node entered (a new version)"""
    return save_organisation(node.engine, node.settings.node_id, item, by=user.username,
                             record_id=str(record_id), base_version=base_version).to_dict()


@router.post("/contacts", status_code=status.HTTP_201_CREATED)
def create_contact_point(item: ContactPointCreate, node: CurrentNode,
                         user: DirectoryKeeper) -> dict[str, Any]:
    """Enter a 24/7 point of contact of an agency or unit"""
    return save_contact_point(node.engine, node.settings.node_id, item,
                              by=user.username).to_dict()


@router.put("/contacts/{record_id}")
def update_contact_point(record_id: uuid.UUID, item: ContactPointCreate, node: CurrentNode,
                         user: DirectoryKeeper, base_version: BaseVersion = None
                         ) -> dict[str, Any]:
    """Change a point of contact this node entered (a new version)"""
    return save_contact_point(node.engine, node.settings.node_id, item, by=user.username,
                              record_id=str(record_id), base_version=base_version).to_dict()

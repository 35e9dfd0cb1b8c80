"""`/checkpoints`: the latest signed checkpoint of every unit's chain head, to export and keep elsewhere."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends

from api.auth import Principal, Scope, require
from api.deps import Conn
from models.errors import NotFound
from models.lifecycle import checkpoints
from models.lifecycle.checkpoints import Checkpoint

router = APIRouter(prefix="/checkpoints", tags=["lifecycle"])
Reader = Annotated[Principal, Depends(require(Scope.CHECKPOINTS_READ))]


@router.get("/latest")
def latest_checkpoint(conn: Conn, _: Reader) -> Checkpoint:
    """The newest checkpoint: its signed payload (every unit's head), the signature and the signing public key."""
    found = checkpoints.latest_checkpoint(conn)
    if found is None:
        raise NotFound("no checkpoint yet: the operator signs them with `liftbrain checkpoint create`")
    return found

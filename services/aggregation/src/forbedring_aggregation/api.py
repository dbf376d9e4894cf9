from fastapi import APIRouter
from pydantic import BaseModel

from forbedring_aggregation import repository
from forbedring_chassis.runtime import SessionDep

router = APIRouter(prefix="/api/v1", tags=["live state"])


class UnitLiveState(BaseModel):
    period_id: str
    unit_id: str
    respondents: int


@router.get("/periods/{period_id}/units/{unit_id}")
async def unit_live_state(period_id: str, unit_id: str, session: SessionDep) -> UnitLiveState:
    count = await repository.respondents(session, period_id=period_id, unit_id=unit_id)
    return UnitLiveState(period_id=period_id, unit_id=unit_id, respondents=count)

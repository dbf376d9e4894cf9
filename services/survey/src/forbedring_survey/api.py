from fastapi import APIRouter, status

from forbedring_chassis.runtime import RuntimeDep, SessionDep
from forbedring_survey import service
from forbedring_survey.schemas import ResponseAccepted, ResponseCreate

router = APIRouter(prefix="/api/v1", tags=["responses"])


@router.post("/responses", status_code=status.HTTP_201_CREATED)
async def submit_response(
    body: ResponseCreate, session: SessionDep, runtime: RuntimeDep
) -> ResponseAccepted:
    response_id = await service.submit_response(
        session, response=body, topic_prefix=runtime.settings.kafka_topic_prefix
    )
    return ResponseAccepted(response_id=response_id)

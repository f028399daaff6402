"""The model price table that run costs come from."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Response, status

from agentplatform.api.deps import ActorDep, SessionDep
from agentplatform.api.openapi import errors_for
from agentplatform.models.agent import ModelName
from agentplatform.services import prices
from agentplatform.services.prices import PricePublic, PriceSet, PricesPublic

router = APIRouter(prefix="/prices", tags=["prices"])
ModelPath = Annotated[ModelName, Path(description="Model name")]


@router.get(
    "",
    response_model=PricesPublic,
    summary="The effective price table (USD per million tokens)",
    responses=errors_for(401, 403),
)
async def list_prices(actor: ActorDep, session: SessionDep) -> PricesPublic:
    return await prices.list_prices(session=session, actor=actor)


@router.put(
    "/{model}",
    response_model=PricePublic,
    summary="Set this workspace's price for a model (used by new runs)",
    responses=errors_for(401, 403),
)
async def set_price(
    model: ModelPath, data: PriceSet, actor: ActorDep, session: SessionDep
) -> PricePublic:
    return await prices.set_price(session=session, actor=actor, model=model, data=data)


@router.delete(
    "/{model}",
    status_code=status.HTTP_204_NO_CONTENT,
    response_class=Response,
    summary="Go back to the built-in price for a model",
    responses=errors_for(401, 403, 404),
)
async def reset_price(model: ModelPath, actor: ActorDep, session: SessionDep) -> Response:
    await prices.reset_price(session=session, actor=actor, model=model)
    return Response(status_code=status.HTTP_204_NO_CONTENT)

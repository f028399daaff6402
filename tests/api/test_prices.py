"""The price table run costs come from: readable by members, editable by admins."""

from __future__ import annotations

import httpx

from tests.factories import add_member, make_user


async def test_admins_override_and_reset_a_model_price(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    listed = (await api.get("/api/prices", headers=owner.headers)).json()
    defaults = {p["model"]: p for p in listed["data"]}
    assert defaults["gpt-4o-mini"]["source"] == "default"

    body = {"input_per_mtok": 1.5, "output_per_mtok": 6}
    response = await api.put("/api/prices/offline-demo", json=body, headers=owner.headers)
    assert response.status_code == 200
    assert response.json() == {"model": "offline-demo", "source": "workspace", **body}
    listed = (await api.get("/api/prices", headers=owner.headers)).json()
    assert {"model": "offline-demo", "source": "workspace", **body} in listed["data"]

    assert (await api.delete("/api/prices/offline-demo", headers=owner.headers)).status_code == 204
    again = await api.delete("/api/prices/offline-demo", headers=owner.headers)
    assert again.status_code == 404
    assert again.json()["error"]["code"] == "not_found"

    audit = (await api.get("/api/audit", headers=owner.headers)).json()
    assert {"price.set", "price.reset"} <= {e["action"] for e in audit["data"]}


async def test_builders_read_but_cannot_change_prices(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    builder = await add_member(owner.workspace_id, "builder")
    assert (await api.get("/api/prices", headers=builder.headers)).status_code == 200
    denied = await api.put(
        "/api/prices/gpt-4o", json={"input_per_mtok": 1, "output_per_mtok": 1},
        headers=builder.headers,
    )  # fmt: skip
    assert denied.status_code == 403


async def test_negative_prices_are_refused(api: httpx.AsyncClient) -> None:
    owner = await make_user()
    response = await api.put(
        "/api/prices/gpt-4o", json={"input_per_mtok": -1, "output_per_mtok": 1},
        headers=owner.headers,
    )  # fmt: skip
    assert response.status_code == 422
    assert response.json()["error"]["details"][0]["field"] == "input_per_mtok"

"""Rendering prompts: variables, version/label choice, and a sandbox that refuses escapes."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from agentplatform.core.errors import ValidationFailed
from agentplatform.services.prompt_render import detect_variables, render_text
from tests import factories
from tests.factories import make_user


def assert_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    return body["error"]


@pytest.fixture
async def owner() -> factories.TestUser:
    return await make_user()


async def prompt_with(api: httpx.AsyncClient, user: factories.TestUser, *templates: str) -> str:
    response = await api.post("/api/prompts", headers=user.headers, json={"name": "P"})
    assert response.status_code == 201, response.text
    prompt_id = str(response.json()["id"])
    for template in templates:
        created = await api.post(
            f"/api/prompts/{prompt_id}/versions", headers=user.headers, json={"template": template}
        )
        assert created.status_code == 201, created.text
    return prompt_id


async def render(
    api: httpx.AsyncClient, user: factories.TestUser, prompt_id: str, **body: Any
) -> httpx.Response:
    return await api.post(f"/api/prompts/{prompt_id}/render", headers=user.headers, json=body)


async def test_renders_the_latest_version_with_variables(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    prompt_id = await prompt_with(
        api, owner, "old {{ name }}", "Hello {{ name }}! {% for t in topics %}[{{ t }}]{% endfor %}"
    )
    response = await render(api, owner, prompt_id, variables={"name": "Ada", "topics": ["a", "b"]})
    assert response.status_code == 200, response.text
    assert response.json() == {"text": "Hello Ada! [a][b]", "version": 2}


async def test_renders_by_version_or_label(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    prompt_id = await prompt_with(api, owner, "one", "two", "three")
    await api.put(
        f"/api/prompts/{prompt_id}/labels/production", headers=owner.headers, json={"version": 2}
    )
    assert (await render(api, owner, prompt_id, version=1)).json() == {"text": "one", "version": 1}
    by_label = await render(api, owner, prompt_id, label="production")
    assert by_label.json() == {"text": "two", "version": 2}
    assert (await render(api, owner, prompt_id, label="latest")).json()["version"] == 3
    assert_error(await render(api, owner, prompt_id, label="staging"), 404, "not_found")
    assert_error(await render(api, owner, prompt_id, version=9), 404, "not_found")
    both = await render(api, owner, prompt_id, version=1, label="production")
    assert_error(both, 422, "validation_failed")


async def test_prompt_without_versions_is_404(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    prompt_id = await prompt_with(api, owner)
    error = assert_error(await render(api, owner, prompt_id), 404, "not_found")
    assert "no versions" in error["message"]


async def test_missing_variables_are_named(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    prompt_id = await prompt_with(api, owner, "{{ greeting }}, {{ name }} from {{ place }}")
    response = await render(api, owner, prompt_id, variables={"greeting": "Hi"})
    error = assert_error(response, 422, "validation_failed")
    assert error["message"] == "Missing variables: name, place."
    assert [d["field"] for d in error["details"]] == ["variables.name", "variables.place"]


async def test_optional_variables_may_be_tested_with_is_defined(
    api: httpx.AsyncClient, owner: factories.TestUser
) -> None:
    prompt_id = await prompt_with(api, owner, "A{% if extra is defined %} {{ extra }}{% endif %}")
    assert (await render(api, owner, prompt_id)).json()["text"] == "A"
    with_extra = await render(api, owner, prompt_id, variables={"extra": "B"})
    assert with_extra.json()["text"] == "A B"


@pytest.mark.parametrize(
    "template",
    [
        "{{ ''.__class__ }}",
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ cycler.__init__.__globals__ }}",
        "{{ lipsum.__globals__['os'] }}",
        "{{ namespace.__init__.__globals__ }}",
        "{{ (1).__class__.__base__ }}",
        "{{ x.__dict__ }}",
        "{{ 'a'.format.__self__ }}",
        "{% for i in range(100000000) %}{% endfor %}",
        "{{ 'x' * 100000000 }}",
        "{{ 2 ** 100000000 }}",
        "{% for i in range(9000) %}{% for j in range(9000) %}xx{% endfor %}{% endfor %}",
        "{% for i in range(9000) %}{% for j in range(9000) %}{% endfor %}{% endfor %}",
        "{{ 'x' * 150000 + 'y' * 150000 }}",
        "{{ (10 ** 200) ** 250 }}",
        "{% set a = 7 ** 256 %}{% set b = a * a * a * a %}{% set c = b * b * b * b %}"
        "{% set d = c * c * c * c %}{{ d * d }}",
    ],
)
async def test_unsafe_templates_are_refused(
    api: httpx.AsyncClient, owner: factories.TestUser, template: str
) -> None:
    prompt_id = await prompt_with(api, owner, template)
    response = await render(api, owner, prompt_id, variables={"x": "value"})
    error = assert_error(response, 422, "validation_failed")
    assert error["message"].lower().startswith("unsafe template"), error


async def test_runtime_errors_are_422(api: httpx.AsyncClient, owner: factories.TestUser) -> None:
    prompt_id = await prompt_with(api, owner, "{{ 1 / n }} {{ person.name }}")
    zero = await render(api, owner, prompt_id, variables={"n": 0, "person": {"name": "x"}})
    assert "ZeroDivisionError" in assert_error(zero, 422, "validation_failed")["message"]
    no_attr = await render(api, owner, prompt_id, variables={"n": 1, "person": {}})
    assert "name" in assert_error(no_attr, 422, "validation_failed")["message"]


def test_variable_detection() -> None:
    template = (
        "{% set local = 1 %}{{ a }}{% for item in items %}{{ item }}{{ loop.index }}{% endfor %}"
    )
    assert detect_variables(template) == ["a", "items"]
    assert detect_variables("no variables") == []


def test_render_text_is_the_engine_entry_point() -> None:
    assert render_text("Hi {{ who }}", {"who": "there"}) == "Hi there"
    assert render_text("Keeps the newline\n", {}) == "Keeps the newline\n"
    assert render_text("{{ x }}", {"x": "{{ not re-evaluated }}"}) == "{{ not re-evaluated }}"
    with pytest.raises(ValidationFailed, match="who"):
        render_text("Hi {{ who }}", {})
    with pytest.raises(ValidationFailed, match="line 2"):
        render_text("fine\n{% if %}", {})

"""The drag-and-drop board (agentplatform.ui.components.dnd) compiles, without a browser.

These render the component as Reflex would compile it and check the JavaScript side it relies
on (assets/dnd_board.jsx and its pinned @dnd-kit packages). The browser behaviour (drags,
keyboard, remove buttons, light/dark visuals) is covered by driving a served app.

A drag helper that works with dnd-kit's PointerSensor (Playwright's `locator.drag_to(target,
steps=10)` works too, but not with its default single step, which only starts the drag)::

    def drag(page, source, target, *, steps=12, target_position=None):
        '''Drag `source` onto `target` (Playwright locators) with real pointer events.'''
        source.scroll_into_view_if_needed()
        s, t = source.bounding_box(), target.bounding_box()
        sx, sy = s["x"] + s["width"] / 2, s["y"] + s["height"] / 2
        if target_position:  # relative to the target's top-left corner
            tx, ty = t["x"] + target_position["x"], t["y"] + target_position["y"]
        else:
            tx, ty = t["x"] + t["width"] / 2, t["y"] + t["height"] / 2
        page.mouse.move(sx, sy)
        page.mouse.down()
        page.mouse.move(sx + 6, sy + 6, steps=2)  # past the 4 px activation distance
        page.mouse.move(tx, ty, steps=steps)  # several moves: collisions update on the way
        page.mouse.move(tx, ty + 1)
        page.wait_for_timeout(100)
        page.mouse.up()

Locators: `page.get_by_role("region", name="Tools", exact=True)` for a container;
`region.get_by_label("Calculator", exact=True)` for an item (role "button" when it can be
dragged, "group" when not); `region.get_by_role("button", name="Remove Calculator")`.
Keyboard: focus an item, Space, ArrowRight (palette -> next target) or ArrowUp/ArrowDown
(within a sortable list), Space; Escape cancels.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import reflex as rx

from agentplatform.ui.components.dnd import (
    DND_BOARD_MODULE,
    DND_KIT_PACKAGES,
    DndBoard,
    DndContainer,
    DndMove,
    DndRemove,
    dnd_board,
)

ROOT = Path(__file__).resolve().parents[2]
JSX = ROOT / "assets" / "dnd_board.jsx"


class DndTestBoardState(rx.State):
    """A state shaped like the product's: its own list, and a computed board."""

    agent_tools: list[str] = ["calculator"]
    loose: list[dict[str, Any]] = []
    wrong: list[str] = []

    @rx.var
    def board(self) -> list[DndContainer]:
        return [
            {
                "id": "available",
                "title": "Available tools",
                "role": "palette",
                "items": [{"id": "calculator", "label": "Calculator", "disabled": True}],
            },
            {
                "id": "tools",
                "title": "Tools",
                "role": "target",
                "items": [{"id": t, "label": t.title()} for t in self.agent_tools],
            },
        ]

    @rx.event
    def move(self, move: DndMove) -> None:
        self.agent_tools.insert(move["to_index"], move["item_id"])

    @rx.event
    def remove(self, removal: DndRemove) -> None:
        self.agent_tools.remove(removal["item_id"])

    @rx.event
    def wrongly_typed(self, move: int) -> None:
        pass


def _props(component: rx.Component) -> dict[str, str]:
    rendered = component.render()
    assert rendered["name"] == "DndBoard"
    return dict(prop.split(":", 1) for prop in rendered["props"])


def test_board_renders_its_props_and_event_triggers() -> None:
    board = dnd_board(
        DndTestBoardState.board,
        on_move=DndTestBoardState.move,
        on_remove=DndTestBoardState.remove,
        columns="1fr 2fr",
        id="tool-board",
    )
    props = _props(board)
    assert props["containers"].endswith(".board_rx_state_")
    assert props["columns"] == '"1fr 2fr"'
    # Each trigger passes the payload object from JavaScript through to the handler's argument.
    assert re.fullmatch(
        r'\(\(_ev_0\) => \(addEvents\(\[\(ReflexEvent\("[\w.]+dnd_test_board_state\.move", '
        r'\(\{ \["move"\] : _ev_0 \}\).*',
        props["onMove"],
    ), props["onMove"]
    assert '.remove", ({ ["removal"] : _ev_0 })' in props["onRemove"]
    assert 'id:"tool-board"' in str(board)


def test_without_handlers_no_triggers_are_rendered() -> None:
    props = _props(dnd_board(DndTestBoardState.board))
    assert "onMove" not in props and "onRemove" not in props  # no remove buttons then


def test_board_imports_the_local_module_and_pins_dnd_kit() -> None:
    imports = dnd_board(DndTestBoardState.board)._get_all_imports()
    assert [(v.tag, v.is_default) for v in imports[DND_BOARD_MODULE]] == [("DndBoard", False)]
    assert DND_BOARD_MODULE == "$/public/dnd_board.jsx"
    for package in DND_KIT_PACKAGES:
        assert re.fullmatch(r"@dnd-kit/[a-z]+@\d+\.\d+\.\d+", package)
        assert package in imports, f"{package} is not installed by the frontend build"


def test_containers_accept_typed_loose_and_literal_lists_but_not_others() -> None:
    for containers in (
        DndTestBoardState.board,
        DndTestBoardState.loose,
        [{"id": "t", "title": "T", "role": "target", "items": []}],
    ):
        assert "containers:" in str(dnd_board(containers))
    with pytest.raises(TypeError, match="containers"):
        dnd_board(DndTestBoardState.wrong)  # type: ignore[arg-type]


def test_a_handler_typed_for_another_payload_is_rejected() -> None:
    with pytest.raises(TypeError, match=r"expects .*DndMove"):
        dnd_board(DndTestBoardState.board, on_move=DndTestBoardState.wrongly_typed)


def test_event_triggers_are_declared_on_the_component() -> None:
    triggers = DndBoard.get_event_triggers()
    assert {"on_move", "on_remove"} <= set(triggers)


def test_the_javascript_module_exists_and_imports_only_pinned_packages() -> None:
    source = JSX.read_text()
    assert re.search(r"^export function DndBoard\(", source, re.MULTILINE)
    imported = set(re.findall(r'^import[^;]*?from "([^"]+)";', source, re.MULTILINE | re.DOTALL))
    pinned = {package.rsplit("@", 1)[0] for package in DND_KIT_PACKAGES}
    # react and react-dom come with every Reflex app; everything else must be pinned here.
    assert imported - {"react", "react-dom"} <= pinned, imported
    # The props the Python class declares are the ones the module reads.
    signature = re.search(r"export function DndBoard\(\{([^}]*)\}", source)
    assert signature
    read = {name.strip().split(":")[0] for name in signature.group(1).split(",")}
    assert {"containers", "onMove", "onRemove", "columns", "id", "className", "style"} <= read
    # Accessible names the tests and assistive technology rely on.
    assert 'role="region"' in source and "aria-label={container.title}" in source
    assert "aria-label={`Remove ${item.label}`}" in source

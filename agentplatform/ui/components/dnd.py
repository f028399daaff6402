"""Drag and drop between a palette and target lists: a thin wrapper of @dnd-kit for Reflex.

One generic, controlled component, :func:`dnd_board`. Python state owns the lists; the board
renders them and reports what the user did:

- ``on_move`` — an item was dropped: from a palette into a target (an *add*: the palette
  keeps its item), within a sortable target (a *reorder*), or from one target into another.
  Payload :class:`DndMove`; ``to_index`` is the index the item should have in the target
  list afterwards.
- ``on_remove`` — a remove button ("Remove <label>") on a target item was pressed.
  Payload :class:`DndRemove`. Without an ``on_remove`` handler no remove buttons are shown.

The handlers update the state's lists, and the board re-renders from them. Meanwhile it shows
the drop optimistically, and reverts if the state did not change within two seconds.

The React side is ``assets/dnd_board.jsx`` (imported as ``$/public/dnd_board.jsx``: Reflex
copies ``assets/`` to the frontend's ``public/`` and Vite bundles the module). It uses
@dnd-kit's pointer sensor (4 px activation distance, so clicks on buttons still work) and
keyboard sensor (space/enter to pick up, arrows to move, space/enter to drop, escape to
cancel), a drag overlay, screen-reader announcements with the items' labels, and Radix
Themes CSS variables only, so it follows the theme's accent, radius and light/dark mode.

Accessible names, for people and for tests:
- each container is a ``region`` named by its title (``data-dnd-container=<id>`` on it);
- each item has ``aria-label=<label>`` on its handle, which spans the item except the remove
  button: role ``button`` when it can be dragged (palette items, sortable target items),
  ``group`` when not (items of a non-sortable target); ``data-dnd-item=<id>`` on its ``li``;
- remove buttons are named ``Remove <label>``.
Use ``exact=True`` in Playwright, since "Calculator" is also a substring of
"Remove Calculator". A drag helper for Playwright is in tests/ui/test_dnd_component.py.

Drop rules: palettes accept nothing; a target accepts items from elsewhere unless it already
holds an item with that id, and its own items only when ``sortable``. Palette items marked
``disabled`` (e.g. already added) cannot be dragged.

Example::

    dnd_board(
        containers=AgentEditorState.tool_board,  # list[DndContainer], e.g. a computed var
        on_move=AgentEditorState.move_tool,  # def move_tool(self, move: DndMove)
        on_remove=AgentEditorState.remove_tool,  # def remove_tool(self, removal: DndRemove)
    )

Containers sit in a CSS grid, ``repeat(auto-fit, minmax(260px, 1fr))`` unless ``columns`` says
otherwise: side by side when there is room, stacked on narrow screens. Style props
(``margin_top=...``) reach the root element through its class name.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal, NotRequired, TypedDict

import reflex as rx
from reflex.event import EventType, passthrough_event_spec
from reflex.vars.base import Var

# The module under assets/ and the npm packages it imports. The frontend build installs these
# (package.json gets ^ranges; the exact versions are kept by the committed reflex.lock/).
DND_BOARD_MODULE = "$/public/dnd_board.jsx"
DND_KIT_PACKAGES = (
    "@dnd-kit/core@6.3.1",
    "@dnd-kit/sortable@10.0.0",
    "@dnd-kit/utilities@3.2.2",
)


class DndItem(TypedDict):
    """One draggable item."""

    id: str
    label: str  # visible text and accessible name
    sublabel: NotRequired[str]  # smaller second line (hidden in the "chips" variant)
    disabled: NotRequired[bool]  # palette: not draggable, shown dimmed with a check mark


class DndContainer(TypedDict):
    """A palette (drag source, never changes on a drop) or a target (drop zone)."""

    id: str
    title: str  # heading and the region's accessible name
    items: list[DndItem]
    role: Literal["palette", "target"]
    sortable: NotRequired[bool]  # target: items can be reordered by dragging
    variant: NotRequired[Literal["list", "chips"]]  # stacked cards (default) or wrapping chips
    empty_text: NotRequired[str]  # shown when there are no items
    description: NotRequired[str]  # small hint under the title
    removable: NotRequired[bool]  # target: show remove buttons (default True)


class DndMove(TypedDict):
    """Payload of ``on_move``."""

    item_id: str
    from_container: str
    from_index: int  # index in the source container
    to_container: str
    to_index: int  # index the item should have in the target afterwards


class DndRemove(TypedDict):
    """Payload of ``on_remove``."""

    item_id: str
    container: str


class DndBoard(rx.Component):
    """The React ``DndBoard`` from ``assets/dnd_board.jsx``; use :func:`dnd_board`."""

    library = DND_BOARD_MODULE
    tag = "DndBoard"
    lib_dependencies: list[str] = list(DND_KIT_PACKAGES)

    # The palettes and targets (DndContainer dicts), left to right, wrapping when narrow.
    # Typed loosely because Reflex's prop check rejects unions with TypedDicts.
    containers: Var[list[dict[str, Any]]]

    # CSS grid-template-columns for the containers; default: repeat(auto-fit, minmax(260px, 1fr)).
    columns: Var[str]

    # An item was dropped somewhere that accepts it. (Annotated[...] is what
    # rx.EventHandler[spec] expands to, spelled out so that mypy accepts it.)
    on_move: Annotated[rx.EventHandler, passthrough_event_spec(DndMove)]

    # A target item's remove button was pressed.
    on_remove: Annotated[rx.EventHandler, passthrough_event_spec(DndRemove)]


def dnd_board(
    containers: Var[list[DndContainer]]
    | Var[list[dict[str, Any]]]
    | list[DndContainer]
    | list[dict[str, Any]],
    *,
    on_move: EventType[DndMove] | None = None,
    on_remove: EventType[DndRemove] | None = None,
    columns: str | Var[str] | None = None,
    **props: Any,
) -> rx.Component:
    """A drag-and-drop board of palettes and targets (see the module docstring).

    Args:
        containers: The containers, usually a state var (a computed var built from the
            state's own lists works well).
        on_move: Handler for drops, called with a :class:`DndMove`.
        on_remove: Handler for remove buttons, called with a :class:`DndRemove`; without
            it, no remove buttons are shown.
        columns: CSS ``grid-template-columns`` for the containers.
        **props: Other props for the root element (``id``, ``class_name``, ...).

    Returns:
        The board component.
    """
    if on_move is not None:
        props["on_move"] = on_move
    if on_remove is not None:
        props["on_remove"] = on_remove
    if columns is not None:
        props["columns"] = columns
    return DndBoard.create(containers=containers, **props)


__all__ = [
    "DND_BOARD_MODULE",
    "DND_KIT_PACKAGES",
    "DndBoard",
    "DndContainer",
    "DndItem",
    "DndMove",
    "DndRemove",
    "dnd_board",
]

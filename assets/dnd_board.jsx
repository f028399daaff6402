// DndBoard: drag-and-drop between "palette" and "target" containers, for Reflex.
//
// Wrapped in Python by agentplatform/ui/components/dnd.py (library "$/public/dnd_board.jsx").
// Controlled component: the containers come from Python state as props; a drop only emits
// onMove / onRemove, and Python updates its lists. Until the new props arrive, the drop is
// shown optimistically (reverted after REVERT_MS if Python did not change anything).
//
// Built on @dnd-kit/core + @dnd-kit/sortable (pointer + keyboard sensors, drag overlay,
// screen-reader announcements). Styled with Radix Themes CSS variables only, so it follows
// the app's accent colour, radius and light/dark appearance.
import { useCallback, useEffect, useId, useMemo, useRef, useState } from "react";
import { createPortal } from "react-dom";
import {
  DndContext,
  DragOverlay,
  KeyboardCode,
  KeyboardSensor,
  PointerSensor,
  closestCenter,
  defaultDropAnimationSideEffects,
  pointerWithin,
  rectIntersection,
  useDraggable,
  useDroppable,
  useSensor,
  useSensors,
} from "@dnd-kit/core";
import {
  SortableContext,
  arrayMove,
  rectSortingStrategy,
  sortableKeyboardCoordinates,
  useSortable,
  verticalListSortingStrategy,
} from "@dnd-kit/sortable";
import { CSS as DndCSS } from "@dnd-kit/utilities";

const REVERT_MS = 2000;
const ARROWS = [KeyboardCode.Down, KeyboardCode.Right, KeyboardCode.Up, KeyboardCode.Left];

const STYLES = `
.apdnd-board {
  display: grid;
  grid-template-columns: var(--apdnd-columns, repeat(auto-fit, minmax(260px, 1fr)));
  gap: var(--space-4);
  align-items: stretch;
  box-sizing: border-box;
  width: 100%;
  font-family: var(--default-font-family);
  color: var(--gray-12);
}
.apdnd-container {
  display: flex;
  flex-direction: column;
  gap: var(--space-3);
  box-sizing: border-box;
  min-width: 0;
  padding: var(--space-3);
  border: 1px solid var(--gray-a5);
  border-radius: var(--radius-4);
  background: var(--color-panel-solid);
  transition: border-color 120ms, background-color 120ms, box-shadow 120ms;
}
.apdnd-container[data-role="palette"] {
  border-color: var(--gray-a4);
  background: var(--gray-a2);
}
.apdnd-container[data-can-drop="true"] {
  border-color: var(--accent-a7);
  border-style: dashed;
}
.apdnd-container[data-over="true"] {
  border-color: var(--accent-8);
  border-style: solid;
  background: var(--accent-a2);
  box-shadow: 0 0 0 3px var(--accent-a4);
}
.apdnd-header {
  display: flex;
  align-items: center;
  gap: var(--space-2);
  min-height: 24px;
}
.apdnd-title {
  margin: 0;
  font-size: var(--font-size-2);
  line-height: var(--line-height-2);
  font-weight: var(--font-weight-bold);
  letter-spacing: var(--letter-spacing-2);
}
.apdnd-count {
  display: inline-flex;
  align-items: center;
  justify-content: center;
  min-width: 20px;
  height: 20px;
  padding: 0 6px;
  border-radius: 9999px;
  background: var(--gray-a3);
  color: var(--gray-11);
  font-size: var(--font-size-1);
  font-weight: var(--font-weight-medium);
  font-variant-numeric: tabular-nums;
}
.apdnd-container[data-role="target"] .apdnd-count {
  background: var(--accent-a3);
  color: var(--accent-11);
}
.apdnd-description {
  margin: calc(-1 * var(--space-2)) 0 0;
  font-size: var(--font-size-1);
  line-height: var(--line-height-1);
  color: var(--gray-11);
}
.apdnd-list {
  display: flex;
  flex-direction: column;
  gap: var(--space-2);
  margin: 0;
  padding: 0;
  list-style: none;
}
.apdnd-list[data-variant="chips"] {
  flex-direction: row;
  flex-wrap: wrap;
}
.apdnd-item {
  position: relative;
  display: flex;
  align-items: center;
  min-width: 0;
  box-sizing: border-box;
  border: 1px solid var(--gray-a5);
  border-radius: var(--radius-3);
  background: var(--color-panel-solid);
  box-shadow: 0 1px 2px var(--black-a2);
  transition: border-color 120ms, background-color 120ms, opacity 120ms;
}
.apdnd-item:hover {
  border-color: var(--gray-a7);
}
.apdnd-list[data-variant="chips"] .apdnd-item {
  border-radius: max(var(--radius-3), var(--radius-thumb));
}
.apdnd-item[data-source="true"] {
  opacity: 0.5;
}
.apdnd-item[data-placeholder="true"] {
  opacity: 1;
  border-style: dashed;
  border-color: var(--accent-a8);
  background: var(--accent-a2);
  box-shadow: none;
}
.apdnd-item[data-placeholder="true"] > * {
  visibility: hidden;
}
.apdnd-item[data-disabled="true"] {
  opacity: 0.55;
  box-shadow: none;
  background: transparent;
}
.apdnd-item[data-insert]::before {
  content: "";
  position: absolute;
  left: 4px;
  right: 4px;
  height: 3px;
  border-radius: 3px;
  background: var(--accent-9);
  pointer-events: none;
}
.apdnd-item[data-insert="before"]::before {
  top: calc(-1 * var(--space-1) - 3px);
}
.apdnd-item[data-insert="after"]::before {
  bottom: calc(-1 * var(--space-1) - 3px);
}
.apdnd-handle {
  display: flex;
  flex: 1;
  align-items: center;
  gap: var(--space-2);
  min-width: 0;
  padding: var(--space-2) var(--space-3) var(--space-2) var(--space-2);
  border-radius: inherit;
  cursor: grab;
  touch-action: none;
  user-select: none;
  -webkit-user-select: none;
  outline: none;
}
.apdnd-list[data-variant="chips"] .apdnd-handle {
  padding: 5px var(--space-3) 5px var(--space-2);
}
.apdnd-handle[data-static="true"] {
  cursor: default;
  padding-left: var(--space-3);
}
.apdnd-handle[aria-disabled="true"] {
  cursor: not-allowed;
}
.apdnd-handle:focus-visible {
  outline: 2px solid var(--focus-8);
  outline-offset: 1px;
}
.apdnd-grip {
  flex: none;
  color: var(--gray-8);
  transition: color 120ms;
}
.apdnd-item:hover .apdnd-grip,
.apdnd-handle:focus-visible .apdnd-grip {
  color: var(--gray-11);
}
.apdnd-text {
  display: flex;
  flex-direction: column;
  min-width: 0;
}
.apdnd-label {
  overflow: hidden;
  font-size: var(--font-size-2);
  line-height: var(--line-height-2);
  font-weight: var(--font-weight-medium);
  white-space: nowrap;
  text-overflow: ellipsis;
}
.apdnd-sublabel {
  overflow: hidden;
  font-size: var(--font-size-1);
  line-height: var(--line-height-1);
  color: var(--gray-11);
  white-space: nowrap;
  text-overflow: ellipsis;
}
.apdnd-list[data-variant="chips"] .apdnd-sublabel {
  display: none;
}
.apdnd-added {
  flex: none;
  color: var(--accent-11);
}
.apdnd-remove {
  display: inline-flex;
  flex: none;
  align-items: center;
  justify-content: center;
  width: 24px;
  height: 24px;
  margin-right: var(--space-2);
  padding: 0;
  border: none;
  border-radius: var(--radius-2);
  background: transparent;
  color: var(--gray-11);
  cursor: pointer;
  transition: background-color 120ms, color 120ms;
}
.apdnd-list[data-variant="chips"] .apdnd-remove {
  width: 20px;
  height: 20px;
  margin-left: calc(-1 * var(--space-2));
  margin-right: 6px;
  border-radius: 9999px;
}
.apdnd-remove:hover {
  background: var(--red-a3);
  color: var(--red-11);
}
.apdnd-remove:focus-visible {
  outline: 2px solid var(--focus-8);
  outline-offset: 1px;
}
.apdnd-empty {
  display: flex;
  align-items: center;
  justify-content: center;
  min-height: 64px;
  padding: var(--space-3);
  border: 1px dashed var(--gray-a7);
  border-radius: var(--radius-3);
  color: var(--gray-10);
  font-size: var(--font-size-1);
  line-height: var(--line-height-1);
  text-align: center;
}
.apdnd-container[data-over="true"] .apdnd-empty {
  border-color: var(--accent-8);
  color: var(--accent-11);
}
.apdnd-overlay {
  font-family: var(--default-font-family);
  color: var(--gray-12);
  cursor: grabbing;
}
.apdnd-overlay .apdnd-item {
  border-color: var(--accent-a8);
  box-shadow: var(--shadow-5);
  transform: rotate(-1deg) scale(1.02);
}
.apdnd-overlay .apdnd-handle {
  cursor: grabbing;
}
.apdnd-overlay .apdnd-grip {
  color: var(--accent-11);
}
`;

// Icons (lucide shapes, inline so the module needs no icon package).
const Svg = ({ size = 16, children, className }) => (
  <svg
    className={className}
    width={size}
    height={size}
    viewBox="0 0 24 24"
    fill="none"
    stroke="currentColor"
    strokeWidth="2"
    strokeLinecap="round"
    strokeLinejoin="round"
    aria-hidden="true"
    focusable="false"
  >
    {children}
  </svg>
);
const GripIcon = (props) => (
  <Svg {...props}>
    <circle cx="9" cy="6" r="1" />
    <circle cx="9" cy="12" r="1" />
    <circle cx="9" cy="18" r="1" />
    <circle cx="15" cy="6" r="1" />
    <circle cx="15" cy="12" r="1" />
    <circle cx="15" cy="18" r="1" />
  </Svg>
);
const XIcon = (props) => (
  <Svg {...props}>
    <path d="M18 6 6 18" />
    <path d="m6 6 12 12" />
  </Svg>
);
const CheckIcon = (props) => (
  <Svg {...props}>
    <path d="M20 6 9 17l-5-5" />
  </Svg>
);

const itemKey = (containerId, itemId) => `item:${containerId}:${itemId}`;
const containerKey = (containerId) => `container:${containerId}`;

// Which container accepts the drag of `active` (data of the dragged item)?
function accepts(container, active) {
  if (!container || !active || container.role !== "target") return false;
  if (container.id === active.containerId) return Boolean(container.sortable);
  return !(container.items || []).some((item) => item.id === active.itemId);
}

// Containers under the pointer (keyboard: intersecting the dragged rect); inside a sortable
// container, the closest of its items, so sortable lists shift and insertion points show.
function collisionDetection(args) {
  const { active, droppableContainers, pointerCoordinates } = args;
  const activeData = active.data.current || {};
  const containers = droppableContainers.filter((c) => c.data.current?.type === "container");
  const hits = pointerCoordinates
    ? pointerWithin({ ...args, droppableContainers: containers })
    : rectIntersection({ ...args, droppableContainers: containers });
  if (!hits.length) return [];
  const hit = hits[0];
  const hitData = containers.find((c) => c.id === hit.id)?.data.current;
  if (!hitData?.sortable) return [hit];
  const fromOutside = hitData.containerId !== activeData.containerId;
  if (fromOutside && !pointerCoordinates) return [hit]; // keyboard add: append at the end
  const items = droppableContainers.filter(
    (c) => c.data.current?.type === "item" && c.data.current.containerId === hitData.containerId,
  );
  if (!items.length) return [hit];
  const closest = closestCenter({ ...args, droppableContainers: items });
  return closest.length ? [closest[0]] : [hit];
}

// Keyboard: items of a sortable list move within/among lists the sortable way; anything else
// (palette items) jumps from one accepting container to the next with the arrow keys.
function keyboardCoordinates(event, args) {
  const { context, currentCoordinates } = args;
  const active = context.active;
  if (!active) return undefined;
  const activeData = active.data.current || {};
  if (activeData.sortable && context.over?.data.current?.containerId === activeData.containerId) {
    return sortableKeyboardCoordinates(event, args);
  }
  if (!ARROWS.includes(event.code)) return undefined;
  event.preventDefault();
  const targets = context.droppableContainers
    .getEnabled()
    .filter((c) => c.data.current?.type === "container" && context.droppableRects.get(c.id))
    .sort((a, b) => {
      const ra = context.droppableRects.get(a.id);
      const rb = context.droppableRects.get(b.id);
      return ra.top - rb.top || ra.left - rb.left;
    });
  if (!targets.length || !context.collisionRect) return undefined;
  const overContainer = context.over?.data.current?.containerId;
  const current = targets.findIndex((c) => c.data.current.containerId === overContainer);
  const forward = event.code === KeyboardCode.Down || event.code === KeyboardCode.Right;
  let next;
  if (current === -1) next = forward ? 0 : targets.length - 1;
  else next = Math.min(Math.max(current + (forward ? 1 : -1), 0), targets.length - 1);
  const rect = context.droppableRects.get(targets[next].id);
  const from = context.collisionRect;
  return {
    x: currentCoordinates.x + (rect.left + rect.width / 2) - (from.left + from.width / 2),
    y:
      currentCoordinates.y +
      (rect.bottom - Math.min(rect.height / 2, 40)) -
      (from.top + from.height / 2),
  };
}

function ItemBody({ item, container, handleProps, onRemove, overlay }) {
  const isTarget = container.role === "target";
  const draggable = !overlay && handleProps;
  const removable = isTarget && onRemove && container.removable !== false && !overlay;
  return (
    <>
      <div
        className="apdnd-handle"
        data-static={draggable || overlay ? undefined : "true"}
        role={draggable || overlay ? undefined : "group"}
        aria-label={overlay ? undefined : item.label}
        title={container.variant === "chips" && item.sublabel ? item.sublabel : undefined}
        {...(draggable ? handleProps : {})}
      >
        {draggable || overlay ? <GripIcon className="apdnd-grip" size={16} /> : null}
        <span className="apdnd-text">
          <span className="apdnd-label">{item.label}</span>
          {item.sublabel ? <span className="apdnd-sublabel">{item.sublabel}</span> : null}
        </span>
        {item.disabled && !isTarget ? <CheckIcon className="apdnd-added" size={14} /> : null}
      </div>
      {removable ? (
        <button
          type="button"
          className="apdnd-remove"
          aria-label={`Remove ${item.label}`}
          title={`Remove ${item.label}`}
          onPointerDown={(event) => event.stopPropagation()}
          onKeyDown={(event) => event.stopPropagation()}
          onClick={() => onRemove(item, container)}
        >
          <XIcon size={container.variant === "chips" ? 12 : 14} />
        </button>
      ) : null}
    </>
  );
}

function itemData(item, container, index) {
  return {
    type: "item",
    itemId: item.id,
    containerId: container.id,
    role: container.role,
    sortable: Boolean(container.sortable),
    index,
    item,
  };
}

// Props for the item's handle: it spans the whole item except the remove button, which sits
// beside it (a button inside a role="button" element would be invalid and steal keys).
function handleFrom(attributes, listeners, setActivatorNodeRef) {
  return { ...attributes, ...listeners, ref: setActivatorNodeRef };
}

function SortableItem({ item, container, index, insert, active, onRemove }) {
  const canDrop = accepts(container, active);
  const {
    attributes,
    listeners,
    setNodeRef,
    setActivatorNodeRef,
    transform,
    transition,
    isDragging,
  } = useSortable({
    id: itemKey(container.id, item.id),
    data: itemData(item, container, index),
    disabled: { draggable: Boolean(item.disabled), droppable: Boolean(active) && !canDrop },
  });
  return (
    <li
      ref={setNodeRef}
      className="apdnd-item"
      data-dnd-item={item.id}
      data-placeholder={isDragging ? "true" : undefined}
      data-insert={insert}
      style={{ transform: DndCSS.Translate.toString(transform), transition }}
    >
      <ItemBody
        item={item}
        container={container}
        handleProps={handleFrom(attributes, listeners, setActivatorNodeRef)}
        onRemove={onRemove}
      />
    </li>
  );
}

function DraggableItem({ item, container, index, onRemove }) {
  const { attributes, listeners, setNodeRef, setActivatorNodeRef, isDragging } = useDraggable({
    id: itemKey(container.id, item.id),
    data: itemData(item, container, index),
    disabled: Boolean(item.disabled),
  });
  return (
    <li
      ref={setNodeRef}
      className="apdnd-item"
      data-dnd-item={item.id}
      data-source={isDragging ? "true" : undefined}
      data-disabled={item.disabled ? "true" : undefined}
    >
      <ItemBody
        item={item}
        container={container}
        handleProps={handleFrom(attributes, listeners, setActivatorNodeRef)}
        onRemove={onRemove}
      />
    </li>
  );
}

function StaticItem({ item, container, insert, onRemove }) {
  return (
    <li className="apdnd-item" data-dnd-item={item.id} data-insert={insert}>
      <ItemBody item={item} container={container} onRemove={onRemove} />
    </li>
  );
}

function Container({ container, active, insertion, onRemove }) {
  const items = container.items || [];
  const canDrop = accepts(container, active);
  const { setNodeRef, isOver } = useDroppable({
    id: containerKey(container.id),
    data: {
      type: "container",
      containerId: container.id,
      role: container.role,
      sortable: Boolean(container.sortable),
      title: container.title,
    },
    disabled: container.role !== "target" || (Boolean(active) && !canDrop),
  });
  const variant = container.variant || "list";
  const fromOutside = Boolean(active) && active.containerId !== container.id;
  const overHere = fromOutside && canDrop && (isOver || insertion?.containerId === container.id);
  const insertAt = insertion?.containerId === container.id && fromOutside ? insertion.index : null;
  const insertFor = (index) => {
    if (insertAt === null || variant === "chips" || !items.length) return undefined;
    if (index === insertAt) return "before";
    if (index === items.length - 1 && insertAt >= items.length) return "after";
    return undefined;
  };
  const list = items.map((item, index) => {
    const props = { item, container, index, onRemove, active };
    if (container.role === "palette") return <DraggableItem key={item.id} {...props} />;
    if (container.sortable)
      return <SortableItem key={item.id} {...props} insert={insertFor(index)} />;
    return <StaticItem key={item.id} {...props} insert={insertFor(index)} />;
  });
  return (
    <section
      ref={setNodeRef}
      className="apdnd-container"
      role="region"
      aria-label={container.title}
      data-dnd-container={container.id}
      data-role={container.role}
      data-can-drop={fromOutside && canDrop ? "true" : undefined}
      data-over={overHere ? "true" : undefined}
    >
      <div className="apdnd-header">
        <h3 className="apdnd-title">{container.title}</h3>
        <span className="apdnd-count" aria-hidden="true">
          {items.length}
        </span>
      </div>
      {container.description ? <p className="apdnd-description">{container.description}</p> : null}
      {items.length ? (
        container.sortable ? (
          <SortableContext
            items={items.map((item) => itemKey(container.id, item.id))}
            strategy={variant === "chips" ? rectSortingStrategy : verticalListSortingStrategy}
          >
            <ul className="apdnd-list" data-variant={variant}>
              {list}
            </ul>
          </SortableContext>
        ) : (
          <ul className="apdnd-list" data-variant={variant}>
            {list}
          </ul>
        )
      ) : (
        <div className="apdnd-empty">{container.empty_text || "Nothing here yet"}</div>
      )}
    </section>
  );
}

function labelOf(entry) {
  return entry?.data.current?.item?.label ?? entry?.data.current?.title ?? "item";
}

function placeOf(over) {
  const data = over?.data.current;
  if (!data) return "nothing";
  if (data.type === "container") return data.title;
  return `${labelOf(over)}, position ${data.index + 1}`;
}

const announcements = {
  onDragStart: ({ active }) => `Picked up ${labelOf(active)}.`,
  onDragOver: ({ active, over }) =>
    over
      ? `${labelOf(active)} is over ${placeOf(over)}.`
      : `${labelOf(active)} is no longer over a list.`,
  onDragEnd: ({ active, over }) =>
    over
      ? `${labelOf(active)} was dropped on ${placeOf(over)}.`
      : `${labelOf(active)} was dropped.`,
  onDragCancel: ({ active }) => `Dragging was cancelled. ${labelOf(active)} was put back.`,
};

const screenReaderInstructions = {
  draggable:
    "To pick up an item, press space or enter. Use the arrow keys to move it to a list, " +
    "or up and down within a list to reorder it. Press space or enter again to drop it, " +
    "or escape to cancel.",
};

const reorderDropAnimation = {
  sideEffects: defaultDropAnimationSideEffects({ styles: { active: { opacity: "0.4" } } }),
};

// Where a drag from another container would be inserted into the container it is over.
function insertionFor(containers, activeData, over, pointerY, activeRect) {
  const overData = over?.data.current;
  if (!overData) return null;
  const target = containers.find((c) => c.id === overData.containerId);
  if (!target || target.id === activeData.containerId || !accepts(target, activeData)) return null;
  const count = (target.items || []).length;
  if (overData.type !== "item" || !target.sortable) return { containerId: target.id, index: count };
  const middle = over.rect.top + over.rect.height / 2;
  const y = pointerY ?? (activeRect ? activeRect.top + activeRect.height / 2 : middle);
  return { containerId: target.id, index: overData.index + (y > middle ? 1 : 0) };
}

function applyMove(containers, move) {
  return containers.map((c) => {
    const items = [...(c.items || [])];
    if (move.from_container === move.to_container && c.id === move.to_container) {
      return { ...c, items: arrayMove(items, move.from_index, move.to_index) };
    }
    const fromPalette = containers.find((x) => x.id === move.from_container)?.role !== "target";
    if (c.id === move.from_container && !fromPalette) {
      return { ...c, items: items.filter((item) => item.id !== move.item_id) };
    }
    if (c.id === move.to_container) {
      const { disabled: _disabled, ...item } = move.item;
      items.splice(move.to_index, 0, item);
      return { ...c, items };
    }
    return c;
  });
}

export function DndBoard({
  containers: containersProp,
  onMove,
  onRemove,
  columns,
  className,
  id,
  style,
}) {
  const baseId = useId();
  const [override, setOverride] = useState(null);
  const [active, setActive] = useState(null); // data of the dragged item
  const [insertion, setInsertion] = useState(null);
  const [overlayKind, setOverlayKind] = useState("copy"); // kept after the drop, for its animation
  const insertionRef = useRef(null);
  const pointerStart = useRef(null);
  const rootRef = useRef(null);
  // The overlay is position: fixed, so it is portalled out of ancestors that would be its
  // containing block (a transformed or contained card); into the nearest Radix Themes root,
  // whose CSS variables it needs.
  const [portalTarget, setPortalTarget] = useState(null);
  useEffect(() => {
    setPortalTarget(rootRef.current?.closest(".radix-themes") ?? document.body);
  }, []);

  // New props from Python win over an optimistic drop; a drop Python ignored reverts.
  useEffect(() => setOverride(null), [containersProp]);
  useEffect(() => {
    if (!override) return undefined;
    const timer = setTimeout(() => setOverride(null), REVERT_MS);
    return () => clearTimeout(timer);
  }, [override]);

  const containers = useMemo(
    () => override ?? (Array.isArray(containersProp) ? containersProp : []),
    [override, containersProp],
  );

  const sensors = useSensors(
    useSensor(PointerSensor, { activationConstraint: { distance: 4 } }),
    useSensor(KeyboardSensor, { coordinateGetter: keyboardCoordinates }),
  );

  const reset = useCallback(() => {
    setActive(null);
    setInsertion(null);
    insertionRef.current = null;
    pointerStart.current = null;
  }, []);

  const track = useCallback(
    (event) => {
      const activeData = event.active.data.current;
      const start = pointerStart.current;
      const pointerY = start ? start.y + event.delta.y : null;
      const next = insertionFor(
        containers,
        activeData,
        event.over,
        pointerY,
        event.active.rect.current.translated,
      );
      const prev = insertionRef.current;
      if (prev?.containerId === next?.containerId && prev?.index === next?.index) return;
      insertionRef.current = next;
      setInsertion(next);
    },
    [containers],
  );

  const handleDragStart = useCallback(
    (event) => {
      const data = event.active.data.current;
      const from = containers.find((c) => c.id === data.containerId);
      setActive(data);
      setOverlayKind(from?.role === "target" && from.sortable ? "reorder" : "copy");
      const native = event.activatorEvent;
      pointerStart.current =
        native && "clientY" in native ? { x: native.clientX, y: native.clientY } : null;
    },
    [containers],
  );

  const handleDragEnd = useCallback(
    (event) => {
      const activeData = event.active.data.current;
      const overData = event.over?.data.current;
      const finalInsertion = insertionRef.current;
      reset();
      if (!activeData || !overData) return;
      const target = containers.find((c) => c.id === overData.containerId);
      if (!accepts(target, activeData)) return;
      let toIndex;
      if (target.id === activeData.containerId) {
        if (overData.type !== "item") return;
        toIndex = overData.index;
        if (toIndex === activeData.index) return;
      } else {
        toIndex =
          finalInsertion?.containerId === target.id
            ? finalInsertion.index
            : (target.items || []).length;
      }
      const move = {
        item_id: activeData.itemId,
        from_container: activeData.containerId,
        from_index: activeData.index,
        to_container: target.id,
        to_index: toIndex,
      };
      setOverride(applyMove(containers, { ...move, item: activeData.item }));
      if (onMove) onMove(move);
    },
    [containers, onMove, reset],
  );

  const handleRemove = useCallback(
    (item, container) => {
      setOverride(
        containers.map((c) =>
          c.id === container.id
            ? { ...c, items: (c.items || []).filter((x) => x.id !== item.id) }
            : c,
        ),
      );
      onRemove({ item_id: item.id, container: container.id });
    },
    [containers, onRemove],
  );

  const activeContainer = active ? containers.find((c) => c.id === active.containerId) : null;

  return (
    <div
      ref={rootRef}
      id={id}
      className={className ? `apdnd-board ${className}` : "apdnd-board"}
      style={columns ? { ...style, "--apdnd-columns": columns } : style}
    >
      <style href="agentplatform-dnd-board" precedence="default">
        {STYLES}
      </style>
      <DndContext
        id={`${id || baseId}-instructions`}
        sensors={sensors}
        collisionDetection={collisionDetection}
        accessibility={{ announcements, screenReaderInstructions }}
        onDragStart={handleDragStart}
        onDragMove={track}
        onDragOver={track}
        onDragEnd={handleDragEnd}
        onDragCancel={reset}
      >
        {containers.map((container) => (
          <Container
            key={container.id}
            container={container}
            active={active}
            insertion={insertion}
            onRemove={onRemove ? handleRemove : null}
          />
        ))}
        {portalTarget
          ? createPortal(
              <DragOverlay dropAnimation={overlayKind === "reorder" ? reorderDropAnimation : null}>
                {active && activeContainer ? (
                  <div className="apdnd-overlay" aria-hidden="true">
                    <ul className="apdnd-list" data-variant={activeContainer.variant || "list"}>
                      <li className="apdnd-item">
                        <ItemBody item={active.item} container={activeContainer} overlay />
                      </li>
                    </ul>
                  </div>
                ) : null}
              </DragOverlay>,
              portalTarget,
            )
          : null}
      </DndContext>
    </div>
  );
}

export default DndBoard;

// A table that puts only its visible rows (and a few more) in the DOM (@tanstack/virtual-core),
// so that 10,000 rows cost what 40 do. Rows have a fixed height; each row is its own component
// that reads its own signals, so a change re-renders that row alone.
import type { ComponentChildren, VNode } from "preact";
import { useLayoutEffect, useMemo, useReducer, useRef } from "preact/hooks";
import type { ReadonlySignal } from "@preact/signals";
import {
  Virtualizer,
  elementScroll,
  observeElementOffset,
  observeElementRect,
  type VirtualizerOptions,
} from "@tanstack/virtual-core";

export const ROW_HEIGHT = 30;

export interface Column {
  readonly title: string;
  /** A CSS grid track: "2fr", "8rem", ... */
  readonly width: string;
}

interface Props {
  readonly testId: string;
  readonly columns: readonly Column[];
  readonly ids: ReadonlySignal<readonly string[]>;
  readonly row: (id: string) => VNode;
  readonly empty?: string;
}

export function VirtualTable({ testId, columns, ids, row, empty }: Props) {
  const scroller = useRef<HTMLDivElement>(null);
  const [, rerender] = useReducer((n: number) => n + 1, 0);
  const list = ids.value;
  const options = (count: number): VirtualizerOptions<HTMLDivElement, Element> => ({
    count,
    getScrollElement: () => scroller.current,
    estimateSize: () => ROW_HEIGHT,
    getItemKey: (index) => ids.peek()[index] ?? index,
    overscan: 8,
    scrollToFn: elementScroll,
    observeElementRect,
    observeElementOffset,
    onChange: () => rerender(undefined),
  });
  const virtualizer = useMemo(() => new Virtualizer(options(list.length)), []);
  virtualizer.setOptions(options(list.length));
  useLayoutEffect(() => virtualizer._didMount(), []);
  useLayoutEffect(() => virtualizer._willUpdate());

  const items = virtualizer.getVirtualItems();
  const style = { "--columns": columns.map((column) => column.width).join(" ") };
  return (
    <div class="table" role="table" data-testid={testId} data-rows={list.length} style={style}>
      <div class="row head" role="row">
        {columns.map((column) => (
          <div role="columnheader" key={column.title}>
            {column.title}
          </div>
        ))}
      </div>
      <div class="body" ref={scroller}>
        {list.length === 0 && <div class="empty">{empty ?? "None."}</div>}
        <div class="spacer" style={{ height: `${virtualizer.getTotalSize()}px` }}>
          <div class="window" style={{ transform: `translateY(${items[0]?.start ?? 0}px)` }}>
            {items.map((item) => {
              const id = list[item.index];
              return id === undefined ? null : <Keyed key={id}>{row(id)}</Keyed>;
            })}
          </div>
        </div>
      </div>
    </div>
  );
}

function Keyed({ children }: { readonly children: ComponentChildren }) {
  return <>{children}</>;
}

/** A row: a click opens what it shows. */
export function Row(props: {
  readonly testId: string;
  readonly onOpen?: () => void;
  readonly selected?: boolean;
  readonly data?: Readonly<Record<string, string>>;
  readonly children: ComponentChildren;
}) {
  const data = Object.fromEntries(Object.entries(props.data ?? {}).map(([key, value]) => [`data-${key}`, value]));
  return (
    <div
      class={`row${props.onOpen ? " link" : ""}${props.selected ? " selected" : ""}`}
      role="row"
      data-testid={props.testId}
      onClick={props.onOpen}
      tabIndex={props.onOpen ? 0 : undefined}
      onKeyDown={(event) => event.key === "Enter" && props.onOpen?.()}
      {...data}
    >
      {props.children}
    </div>
  );
}

export function Cell({ col, children }: { readonly col: string; readonly children?: ComponentChildren }) {
  return (
    <div role="cell" data-col={col}>
      {children}
    </div>
  );
}

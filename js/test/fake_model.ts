// A model as anywidget gives a view: traits in `state`, what the view sends in `sent`, and
// `emit` to deliver an event (a custom message from Python) to the view's handlers.
import type { WidgetModel } from "../src/common";

// `any` arguments, as anywidget's own handler type has them.
type Handler = (...args: any[]) => void;

// `any`, as anywidget's own AnyModel constraint has it.
export function fakeModel<M extends Record<string, any>>(state: M) {
  const handlers: Record<string, Handler[]> = {};
  const sent: Record<string, unknown>[] = [];
  const emit = (event: string, ...args: unknown[]) => {
    for (const h of handlers[event] ?? []) h(...args);
  };
  const model: WidgetModel<M> = {
    get: (k) => state[k],
    set: (k, v) => {
      state[k] = v;
      emit(`change:${String(k)}`);
    },
    save_changes: () => undefined,
    on: (e: string, cb: Handler) => {
      (handlers[e] ??= []).push(cb);
    },
    off: () => undefined,
    send: (c: unknown) => {
      sent.push(c as Record<string, unknown>);
    },
  };
  return { model, state, sent, emit };
}

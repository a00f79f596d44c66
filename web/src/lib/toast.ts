import { createStore } from "./store";

export interface Toast {
  id: number;
  kind: "info" | "error" | "success";
  text: string;
}

export const toasts = createStore<{ items: Toast[] }>({ items: [] });
let next = 1;

export function toast(text: string, kind: Toast["kind"] = "info", ms = 5000): void {
  const id = next++;
  toasts.set((s) => ({ items: [...s.items, { id, kind, text }] }));
  setTimeout(() => toasts.set((s) => ({ items: s.items.filter((t) => t.id !== id) })), ms);
}

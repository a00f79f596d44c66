import { useStoreSlice } from "../lib/store";
import { toasts } from "../lib/toast";

export function Toasts() {
  const items = useStoreSlice(toasts, (s) => s.items);
  return (
    <div className="toasts" aria-live="polite">
      {items.map((t) => (
        <div key={t.id} className={`toast ${t.kind}`} role={t.kind === "error" ? "alert" : "status"}>
          {t.text}
        </div>
      ))}
    </div>
  );
}

// ServerToasts: shows the notifications the Python state queues (ToastState.items) with the
// app's sonner toaster, then tells the state which ones it showed. Wrapped in Python by
// agentplatform/ui/components/server_toasts.py and placed around every page as an app wrap.
//
// Why not rx.toast from event handlers: Reflex runs a toast sent by the server through
// eval(), which the Content-Security-Policy forbids. This component is compiled into the
// bundle, so the message only ever travels as data and is shown as text.
import { useEffect, useRef } from "react";
import { toast } from "sonner";

const LEVELS = new Set(["success", "error", "info", "warning"]);

export function ServerToasts({ items, onShown, children }) {
  const shown = useRef(new Set());
  useEffect(() => {
    const fresh = (items ?? []).filter((item) => !shown.current.has(item.id));
    if (fresh.length === 0) return;
    for (const item of fresh) {
      shown.current.add(item.id);
      const show = LEVELS.has(item.level) ? toast[item.level] : toast;
      show(String(item.message ?? ""), {
        duration: item.duration,
        closeButton: Boolean(item.close_button),
      });
    }
    onShown?.(fresh.map((item) => item.id));
  }, [items, onShown]);
  return children ?? null;
}

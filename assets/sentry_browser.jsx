// SentryBrowser: reports the page's uncaught errors and unhandled promise rejections to
// Sentry, the same project as the backend. Wrapped in Python by
// agentplatform/ui/components/sentry_browser.py and placed around every page as an app wrap.
//
// The DSN, environment and release come from the server at run time (GET /api/client-config),
// so a frontend built once (the image's) reports wherever its deployment says. Without a DSN
// it renders its children and nothing else. With one, the SDK starts once per page load: no
// default PII, no performance tracing, and every event and breadcrumb is
// scrubbed of tokens, API keys and email addresses before it leaves the browser (the same
// rules as the backend's agentplatform/core/redaction.py).
import * as Sentry from "@sentry/react";

let requested = false;

// Mirrors agentplatform/core/redaction.py: keep the two in step.
const REDACTED = "[redacted]";
const TEXT_RULES = [
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\b(apk|rt)_[A-Za-z0-9_-]{16,}/g, `$1_${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]+/g, REDACTED],
  [/\b(sk|sk-ant|sk-proj)-[A-Za-z0-9_-]{16,}/gi, REDACTED],
  [/([a-z][a-z0-9+.-]*:\/\/[^:/@\s]+):[^@\s/]+@/gi, `$1:${REDACTED}@`],
  [
    /(["']?\b(?:password|passwd|pwd|secret|token|api[_-]?key|client[_-]?secret)\b["']?\s*[=:]\s*["']?)([^\s"'&,;}]+)/gi,
    `$1${REDACTED}`,
  ],
];
const EMAIL = /[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}/g;
const SECRET_KEY =
  /passw(or)?d|^pwd$|secret|token(?!s)|api[_-]?key|dsn|authorization|cookie|credential|private[_-]?key/i;

function scrubText(text) {
  let out = text;
  for (const [pattern, replacement] of TEXT_RULES) out = out.replace(pattern, replacement);
  return out.replace(EMAIL, "[email]");
}

function scrub(value, depth = 0) {
  if (typeof value === "string") return scrubText(value);
  if (depth > 12 || value === null || typeof value !== "object") return value;
  if (Array.isArray(value)) return value.map((item) => scrub(item, depth + 1));
  const out = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) && item ? REDACTED : scrub(item, depth + 1);
  }
  return out;
}

function beforeSend(event) {
  const cleaned = scrub(event);
  if (cleaned.request) {
    delete cleaned.request.cookies;
    if (cleaned.request.headers) {
      delete cleaned.request.headers.Cookie;
      delete cleaned.request.headers.Authorization;
    }
  }
  if (cleaned.user) {
    cleaned.user = cleaned.user.id ? { id: String(cleaned.user.id) } : undefined;
  }
  cleaned.tags = { ...(cleaned.tags || {}), surface: "browser" };
  return cleaned;
}

// Errors raised while the configuration is on its way are kept and reported once it is known.
const early = [];
function remember(event) {
  early.push(event.error || event.reason || new Error(String(event.message)));
}

function startReporting() {
  if (requested || typeof window === "undefined") return;
  requested = true;
  window.addEventListener("error", remember);
  window.addEventListener("unhandledrejection", remember);
  const stopRemembering = () => {
    window.removeEventListener("error", remember);
    window.removeEventListener("unhandledrejection", remember);
  };
  fetch("/api/client-config", { credentials: "same-origin" })
    .then((response) => (response.ok ? response.json() : null))
    .then((config) => {
      stopRemembering();
      const sentry = config && config.sentry;
      if (!sentry || !sentry.dsn) {
        early.length = 0;
        return;
      }
      Sentry.init({
        dsn: sentry.dsn,
        environment: sentry.environment,
        release: sentry.release,
        sendDefaultPii: false,
        beforeSend,
        beforeBreadcrumb: (crumb) => scrub(crumb),
      });
      for (const error of early.splice(0)) Sentry.captureException(error);
    })
    .catch(stopRemembering);
}

export function SentryBrowser({ children }) {
  startReporting();
  return children;
}

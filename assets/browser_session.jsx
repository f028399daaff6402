// The browser session: signing in, signing up and signing out through the API, which keeps
// the session in HttpOnly cookies that no script on the page can read. Wrapped in Python by
// agentplatform/ui/components/browser_session.py.
//
// - SessionForm: a <form> whose submit posts its fields as JSON to `action`; on success the
//   page reloads at `redirectTo` (a full load, so the UI's websocket reconnects carrying the
//   new cookie); on failure `onFailure({status, code, message, details})` reports the API's
//   error to the Python state. `onBusy(true|false)` brackets the request.
// - SessionEnd: rendered when the Python state decides the session is over; it asks the API
//   to revoke the session and clear the cookies, then goes to `redirectTo`.
// - LegacyTokenSweep: wraps every page once. Versions before the cookie session kept tokens in
//   localStorage; this removes them (revoking the old refresh token) and never reads them again.
import { useEffect, useRef } from "react";

const CSRF_COOKIES = ["__Host-ap_csrf", "ap_csrf"];
const CSRF_HEADER = "X-CSRF-Token";
const LEGACY_KEYS = ["ap_access", "ap_refresh"];
const NETWORK_FAILURE = {
  status: 0,
  code: "network",
  message: "Could not reach the server: check your connection and try again.",
  details: null,
};

function cookie(name) {
  for (const part of document.cookie.split(";")) {
    const [key, ...rest] = part.trim().split("=");
    if (key === name) return decodeURIComponent(rest.join("="));
  }
  return "";
}

// A same-origin JSON call that carries the CSRF proof whenever a session cookie may be sent.
export async function sessionFetch(method, url, body) {
  const headers = { Accept: "application/json" };
  const csrf = CSRF_COOKIES.map(cookie).find(Boolean);
  if (csrf) headers[CSRF_HEADER] = csrf;
  if (body !== undefined) headers["Content-Type"] = "application/json";
  return fetch(url, {
    method,
    headers,
    credentials: "same-origin",
    body: body === undefined ? undefined : JSON.stringify(body),
  });
}

async function failureOf(response) {
  let error = {};
  try {
    error = (await response.json())?.error ?? {};
  } catch {
    error = {};
  }
  return {
    status: response.status,
    code: error.code ?? "error",
    message: error.message ?? `The server answered ${response.status}: try again.`,
    details: error.details ?? null,
  };
}

function fieldsOf(form) {
  const fields = {};
  for (const [name, value] of new FormData(form).entries()) {
    if (typeof value === "string") fields[name] = value;
  }
  return fields;
}

export function SessionForm({ action, redirectTo, onFailure, onBusy, children, ...rest }) {
  const pending = useRef(false);
  const submit = async (event) => {
    event.preventDefault();
    if (pending.current) return;
    pending.current = true;
    onBusy?.(true);
    let failure = NETWORK_FAILURE;
    try {
      const response = await sessionFetch("POST", action, fieldsOf(event.currentTarget));
      if (response.ok) {
        window.location.assign(redirectTo || window.location.href);
        return;
      }
      failure = await failureOf(response);
    } catch {
      failure = NETWORK_FAILURE;
    }
    pending.current = false;
    onBusy?.(false);
    onFailure?.(failure);
  };
  return (
    <form {...rest} onSubmit={submit}>
      {children}
    </form>
  );
}

export function SessionEnd({ redirectTo }) {
  const started = useRef(false);
  useEffect(() => {
    if (started.current) return;
    started.current = true;
    sessionFetch("DELETE", "/api/auth/session")
      .catch(() => undefined)
      .finally(() => window.location.replace(redirectTo || "/login?signed_out=1"));
  }, [redirectTo]);
  return null;
}

export function LegacyTokenSweep({ children }) {
  useEffect(() => {
    let refresh = null;
    try {
      refresh = window.localStorage.getItem("ap_refresh");
      for (const key of LEGACY_KEYS) window.localStorage.removeItem(key);
    } catch {
      return;
    }
    if (refresh) {
      fetch("/api/auth/logout", {
        method: "POST",
        headers: { "Content-Type": "application/json" },
        credentials: "omit",
        body: JSON.stringify({ refresh_token: refresh }),
      }).catch(() => undefined);
    }
  }, []);
  return children ?? null;
}

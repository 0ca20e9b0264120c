// The dashboard's door (docs/dashboard.md, Credentials): every request but GET /login needs a live
// session (the cookie shoal_session, whose hash is checked against this manager's replica); a
// state-changing one (POST, DELETE) also needs the X-CSRF-Token header equal to the shoal_csrf
// cookie, a JSON body, and, when the browser sends an Origin, the dashboard's own. Every answer
// carries headers that keep the page out of frames and caches and its types unguessed.
import type { IncomingHttpHeaders, ServerResponse } from "node:http";
import { timingSafeEqual } from "node:crypto";

export const SESSION_COOKIE = "shoal_session";
export const CSRF_COOKIE = "shoal_csrf";

/** The cookies of a request (the first of each name). */
export function parseCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (header ?? "").split(";")) {
    const at = part.indexOf("=");
    if (at < 0) continue;
    const name = part.slice(0, at).trim();
    if (name === "" || out.has(name)) continue;
    let value = part.slice(at + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      out.set(name, decodeURIComponent(value));
    } catch {
      out.set(name, value);
    }
  }
  return out;
}

function sameText(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && x.length > 0 && timingSafeEqual(x, y);
}

/**
 * Why a state-changing request is refused (403), or undefined. `headers` are the request's; the
 * dashboard's own origin is https:// and the Host the browser used.
 */
export function csrfRefusal(
  method: string,
  headers: IncomingHttpHeaders,
  cookies: Map<string, string>,
): string | undefined {
  if (method !== "POST" && method !== "DELETE" && method !== "PUT" && method !== "PATCH") return undefined;
  const origin = headers.origin;
  if (origin !== undefined && origin !== `https://${headers.host ?? ""}`) {
    return `cross-origin request refused: Origin ${origin} is not this dashboard`;
  }
  const token = headers["x-csrf-token"];
  const cookie = cookies.get(CSRF_COOKIE) ?? "";
  if (typeof token !== "string" || !sameText(token, cookie)) {
    return "the X-CSRF-Token header must equal the shoal_csrf cookie";
  }
  const type = (headers["content-type"] ?? "").split(";")[0]!.trim().toLowerCase();
  if (type !== "application/json") return "the body must be JSON (Content-Type: application/json)";
  return undefined;
}

/** The headers every answer carries; `api`: never cached. */
export function setSecurityHeaders(res: ServerResponse, api: boolean): void {
  res.setHeader(
    "Content-Security-Policy",
    "default-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  );
  res.setHeader("X-Frame-Options", "DENY");
  res.setHeader("X-Content-Type-Options", "nosniff");
  res.setHeader("Referrer-Policy", "no-referrer");
  res.setHeader("Strict-Transport-Security", "max-age=31536000");
  res.setHeader("Cache-Control", api ? "no-store" : "no-cache");
}

/** The cookies a redeemed login sets. */
export function sessionCookies(session: string, csrf: string, maxAgeSeconds: number): string[] {
  const age = Math.max(0, Math.floor(maxAgeSeconds));
  return [
    `${SESSION_COOKIE}=${session}; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=${age}`,
    `${CSRF_COOKIE}=${csrf}; Secure; SameSite=Strict; Path=/; Max-Age=${age}`,
  ];
}

/** The cookies that end a session in the browser. */
export function clearedCookies(): string[] {
  return [
    `${SESSION_COOKIE}=; HttpOnly; Secure; SameSite=Strict; Path=/; Max-Age=0`,
    `${CSRF_COOKIE}=; Secure; SameSite=Strict; Path=/; Max-Age=0`,
  ];
}

const escapeHtml = (s: string): string => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

/** A refusal: JSON {message} for /api/, else a small HTML page. */
export function sendRefusal(res: ServerResponse, status: number, message: string, api: boolean): void {
  if (api) {
    const text = JSON.stringify({ message });
    res.writeHead(status, { "Content-Type": "application/json", "Content-Length": Buffer.byteLength(text) });
    res.end(text);
    return;
  }
  const html =
    `<!doctype html><html><head><meta charset="utf-8"><title>Shoal dashboard</title></head><body>` +
    `<h1>Shoal dashboard</h1><p>${escapeHtml(message)}</p>` +
    `<p>Run <code>shoal dashboard login</code> and open the link it prints.</p></body></html>`;
  res.writeHead(status, { "Content-Type": "text/html; charset=utf-8", "Content-Length": Buffer.byteLength(html) });
  res.end(html);
}

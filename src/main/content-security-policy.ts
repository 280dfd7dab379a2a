/**
 * The console's Content Security Policy: only the app's own scripts, styles, images and connections; no
 * plugins, no <base>, no framing. One definition for the Electron response header and the <meta> tag the
 * renderer build writes into index.html (which covers pages whose headers we do not control).
 */
const DIRECTIVES: [string, string][] = [
  ['default-src', "'self'"],
  ['script-src', "'self'"],
  // Inline style *elements* are allowed because editor/terminal widgets (issue 4: xterm.js) inject them;
  // scripts stay strict.
  ['style-src', "'self' 'unsafe-inline'"],
  ['img-src', "'self' data:"],
  ['font-src', "'self' data:"],
  // 'self' covers same-origin ws:/wss: (CSP3), which is all the browser console needs.
  ['connect-src', "'self'"],
  ['object-src', "'none'"],
  ['base-uri', "'none'"],
  ['form-action', "'none'"],
  ['frame-src', "'none'"],
  ['frame-ancestors', "'none'"],
];

/** The policy as a response header value (Electron's session.webRequest for app content). */
export function cspHeader(): string {
  return DIRECTIVES.map(([k, v]) => `${k} ${v}`).join('; ');
}

/** The policy for a <meta http-equiv> tag: the same minus frame-ancestors, which browsers ignore there. */
export function cspMeta(): string {
  return DIRECTIVES.filter(([k]) => k !== 'frame-ancestors')
    .map(([k, v]) => `${k} ${v}`)
    .join('; ');
}

/**
 * The console's one stylesheet (served from /console/assets, allowed by the
 * page's nonce). Light and dark from the system, visible focus everywhere,
 * tables that turn into labelled cards below 700 px.
 */
export const CONSOLE_CSS = `
:root{color-scheme:light dark;--accent:#1d4ed8;--muted:#8889;--border:#8885;--ok:#15803d;--bad:#b91c1c;--warn:#a16207;
font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;line-height:1.5}
*{box-sizing:border-box}
body{margin:0;background:Canvas;color:CanvasText}
a{color:LinkText}
:focus-visible{outline:3px solid #2563eb;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;padding:.5rem 1rem;background:Canvas;z-index:2}
.skip:focus{left:.5rem;top:.5rem}
header.top{display:flex;flex-wrap:wrap;gap:.5rem 1rem;align-items:center;justify-content:space-between;padding:.75rem 1rem;border-bottom:1px solid var(--border)}
header.top .brand{font-weight:700;text-decoration:none;color:inherit}
header.top nav{display:flex;gap:1rem;align-items:center;flex-wrap:wrap}
header.top form{margin:0}
main{max-width:78rem;margin:0 auto;padding:1rem}
h1{font-size:1.5rem;margin:.5rem 0 1rem}
h2{font-size:1.15rem;margin:1.5rem 0 .5rem}
.crumbs{margin:0;font-size:.9rem}
.muted{opacity:.75;font-size:.9rem}
.notice{padding:.5rem .75rem;border-radius:.25rem;border:1px solid var(--ok);margin:0 0 1rem}
.error{padding:.5rem .75rem;border-radius:.25rem;border:1px solid var(--bad);color:var(--bad);margin:0 0 1rem}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.45rem .9rem;border-radius:.25rem;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
button.secondary,.button.secondary{background:transparent;color:inherit;border-color:var(--muted)}
button.danger{background:transparent;color:var(--bad);border-color:var(--bad)}
button:disabled,button[aria-disabled=true]{opacity:.6;cursor:progress}
form.inline{display:inline;margin:0}
label{display:block;font-weight:600;margin:.6rem 0 .2rem}
input[type=text],input[type=number],input[type=search],select,textarea{font:inherit;padding:.4rem .5rem;border:1px solid #888;border-radius:.25rem;background:Field;color:FieldText;max-width:100%}
textarea{width:100%;min-height:5rem;font-family:ui-monospace,monospace}
.hint{font-size:.85rem;opacity:.8;margin:.15rem 0 0}
.fields{display:grid;grid-template-columns:repeat(auto-fill,minmax(14rem,1fr));gap:0 1rem;align-items:start}
.fields .actions{margin-top:2.1rem}
.actions{display:flex;gap:.5rem;flex-wrap:wrap;margin:1rem 0}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0}
dl.facts dt{font-weight:600}
dl.facts dd{margin:0;overflow-wrap:anywhere}
code{font-family:ui-monospace,monospace;font-size:.92em;overflow-wrap:break-word}
table{border-collapse:collapse;width:100%;margin:.5rem 0}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--border);vertical-align:top}
th{font-size:.85rem;text-transform:uppercase;letter-spacing:.03em;opacity:.8}
td.token code{display:block;max-width:40rem;font-size:.8rem;overflow-wrap:anywhere}
.state-live{color:var(--ok)}
.state-revoked{color:var(--bad)}
.state-expired{color:var(--warn)}
.live{display:inline-flex;align-items:center;gap:.4rem}
.live::before{content:"";width:.6rem;height:.6rem;border-radius:50%;background:var(--muted)}
.live[data-state=live]::before{background:var(--ok)}
.live[data-state=down]::before{background:var(--bad)}
tr.leaving{opacity:.5}
@media (max-width:700px){
main{padding:.75rem}
table,thead,tbody,tr,th,td{display:block}
thead{position:absolute;left:-9999px}
tr{border:1px solid var(--border);border-radius:.4rem;margin:0 0 .75rem;padding:.25rem .5rem}
td{border:0;padding:.2rem 0;display:grid;grid-template-columns:8.5rem minmax(0,1fr);gap:.5rem}
td code{overflow-wrap:anywhere}
td::before{content:attr(data-label);font-weight:600;font-size:.85rem;opacity:.8}
dl.facts{grid-template-columns:1fr}
dl.facts dd{margin-bottom:.4rem}
}
`.trim()

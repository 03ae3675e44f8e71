/** The report's stylesheet, inlined: system fonts only, prints cleanly. */
export const STYLE = `
:root{--ink:#0f172a;--muted:#64748b;--line:#e2e8f0;--bg:#f8fafc;--red:#dc2626;--amber:#b45309;--green:#15803d}
*{box-sizing:border-box}
body{margin:0;padding:24px 32px;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,sans-serif;color:var(--ink);background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:18px;margin:28px 0 10px;padding-bottom:4px;border-bottom:2px solid var(--ink)}
h3{font-size:15px;margin:14px 0 4px}
code{font:12px ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--bg);padding:1px 4px;border-radius:3px}
.meta{color:var(--muted);margin:2px 0}
nav{margin:12px 0;color:var(--muted)}
a{color:#1d4ed8}
.stats{display:flex;gap:12px;margin:14px 0 0;flex-wrap:wrap}
.stats div{border:1px solid var(--line);border-radius:6px;padding:8px 14px;min-width:120px;background:var(--bg)}
.stats dt{color:var(--muted);font-size:12px}
.stats dd{margin:0;font-size:22px;font-weight:600}
.finding{border:1px solid var(--line);border-left:4px solid var(--line);border-radius:4px;padding:6px 12px;margin:8px 0}
.finding.found{border-left-color:var(--amber)}
.finding.clear{border-left-color:var(--green)}
.finding h3{margin:4px 0}
.finding ul{margin:4px 0 6px;padding-left:20px}
.finding li{margin:2px 0}
.finding details{margin:0 0 6px 20px}
.finding summary{cursor:pointer;color:#1d4ed8;font-size:13px}
.rule{color:var(--muted);margin:0 0 4px;font-size:13px}
.refs{color:var(--muted);font-size:12px;white-space:nowrap}
.badge{display:inline-block;font-size:11px;font-weight:600;text-transform:uppercase;letter-spacing:.03em;padding:1px 6px;border-radius:10px;vertical-align:1px;color:#fff;background:var(--muted)}
.badge.found{background:var(--amber)}
.badge.clear{background:var(--green)}
.legend{display:flex;gap:16px;flex-wrap:wrap;color:var(--muted);font-size:12px}
.legend i{display:inline-block;width:18px;height:10px;border-radius:2px;margin-right:5px;vertical-align:-1px}
.legend i.bg{background:#fff;border:2px solid var(--red)}
.legend i.unapplied{background:#e2e8f0;border:1px dashed #64748b}
.legend i.ongoing{background:repeating-linear-gradient(45deg,#94a3b8 0 3px,#e2e8f0 3px 6px)}
h3.resource small{color:var(--muted);font-weight:400}
.chart{border:1px solid var(--line);border-radius:4px;padding:4px 0;overflow:hidden}
svg.timeline{display:block;font:11px system-ui,-apple-system,"Segoe UI",Roboto,sans-serif}
svg .lane{fill:#fff}
svg .lane.odd{fill:var(--bg)}
svg .lane-label{fill:var(--ink)}
svg .tick{stroke:var(--line)}
svg .tick-label{fill:var(--muted)}
svg .now{stroke:var(--red);stroke-dasharray:3 3}
svg .bar.breakglass rect:first-of-type{stroke:var(--red);stroke-width:2}
svg .bg-mark{fill:var(--red)}
svg .bar.unapplied rect{stroke:#64748b;stroke-dasharray:3 2}
svg a:hover rect{opacity:.8}
.note,.empty{color:var(--muted)}
.table{overflow-x:auto;border:1px solid var(--line);border-radius:4px}
table{border-collapse:collapse;font-size:12px;width:max-content;min-width:100%}
th,td{border-bottom:1px solid var(--line);padding:4px 8px;text-align:left;vertical-align:top;white-space:nowrap}
th{position:sticky;top:0;background:var(--bg);font-weight:600}
td.text{white-space:normal;min-width:220px;max-width:420px;overflow-wrap:anywhere}
tr.breakglass td:first-child{box-shadow:inset 4px 0 var(--red)}
tr:target{background:#fef9c3}
td.status.revoked{color:var(--green)}
td.status.overdue,td.status.removed{color:var(--amber)}
footer{margin-top:24px;color:var(--muted);font-size:12px}
@media print{body{padding:0}details>*{display:block}.table{overflow:visible}th{position:static}nav{display:none}}
`;

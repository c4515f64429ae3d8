import { ChangeRecord, objectName, RecordCommand, RecordObject } from './types';

/** Text for HTML content and attribute values. */
export function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

const CSS = `
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:2rem auto;max-width:1200px;padding:0 1rem;color:#1b1f24}
h1{font-size:1.6rem}h2{border-bottom:1px solid #d0d7de;padding-bottom:.2rem;margin-top:2rem}
table{border-collapse:collapse;margin:.5rem 0;width:100%}th,td{border:1px solid #d0d7de;padding:.25rem .5rem;text-align:left;vertical-align:top}
th{background:#f6f8fa}code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:.6rem;overflow-x:auto}.expect{color:#57606a}
.create{color:#1a7f37}.prune{color:#cf222e}.update{color:#9a6700}.hook{color:#8250df}.unchanged{color:#57606a}
.passed{color:#1a7f37;font-weight:bold}.failed{color:#cf222e;font-weight:bold}.no{color:#cf222e;font-weight:bold}
.add{color:#1a7f37}.del{color:#cf222e}.at{color:#0969da}svg text{font-family:system-ui,sans-serif}`;

function table(head: string[], rows: string[][]): string {
  if (rows.length === 0) return '<p>None.</p>';
  return `<table><thead><tr>${head.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c) => `<td>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table>`;
}

function commands(list: readonly RecordCommand[], none: string): string {
  if (list.length === 0) return `<p>${esc(none)}</p>`;
  return `<pre>${list.map((c) => esc(c.command) + (c.expect ? `\n<span class="expect">#   expect: ${esc(c.expect)}</span>` : '')).join('\n')}</pre>`;
}

const CELL_W = 118;
const ROW_H = 46;
const LEFT = 110;
const TOP = 64;

/** Clusters × phases: every pointer (filled), what dist/ delivers (ring), the move (arrow) and every gate (lines). */
export function timelineSvg(r: ChangeRecord): string {
  const t = r.timeline;
  const x = (phase: string) => LEFT + t.phases.indexOf(phase) * CELL_W + CELL_W / 2;
  const rows = new Map(t.clusters.map((c, i) => [c.cluster, i]));
  const y = (cluster: string) => TOP + (rows.get(cluster) ?? 0) * ROW_H + ROW_H / 2;
  const width = LEFT + t.phases.length * CELL_W + 10;
  const height = TOP + t.clusters.length * ROW_H + 30;
  const parts: string[] = [
    '<defs><marker id="arrow" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse">' +
      '<path d="M0,0 L10,5 L0,10 z" fill="#0969da"/></marker></defs>',
  ];
  t.phases.forEach((p, i) => {
    parts.push(`<text x="${x(p)}" y="${TOP - 30}" text-anchor="middle" font-size="12" font-weight="bold">${esc(p.slice(0, 2))}</text>`);
    parts.push(`<text x="${x(p)}" y="${TOP - 14}" text-anchor="middle" font-size="10" fill="#57606a">${esc(p.slice(3))}</text>`);
    if (i > 0)
      parts.push(`<line x1="${LEFT + i * CELL_W}" y1="${TOP - 8}" x2="${LEFT + i * CELL_W}" y2="${height - 30}" stroke="#eaeef2"/>`);
  });
  for (const c of t.clusters) {
    const cy = y(c.cluster);
    const mine = c.cluster === r.cluster;
    parts.push(
      `<text x="8" y="${cy + 4}" font-size="13"${mine ? ' font-weight="bold"' : ''}>${esc(c.cluster)}</text>`,
      `<line x1="${LEFT}" y1="${cy}" x2="${width - 10}" y2="${cy}" stroke="#d0d7de"/>`,
    );
    for (const p of t.phases) parts.push(`<circle cx="${x(p)}" cy="${cy}" r="4" fill="#d0d7de"/>`);
    if (c.rendered && c.rendered !== c.pointer)
      parts.push(
        `<circle class="rendered" cx="${x(c.rendered)}" cy="${cy}" r="10" fill="none" stroke="#57606a" stroke-width="2">` +
          `<title>${esc(`${c.cluster}: dist/ delivers ${c.rendered}`)}</title></circle>`,
      );
    parts.push(
      `<circle class="pointer" cx="${x(c.pointer)}" cy="${cy}" r="8" fill="#0969da">` +
        `<title>${esc(`${c.cluster}: pointer at ${c.pointer}`)}</title></circle>`,
    );
  }
  for (const g of t.gates) {
    const move = g.cluster === r.cluster && g.phase === r.to;
    const met = r.gates.find((x) => x.cluster === g.peer && x.phase === g.peerPhase)?.met;
    const color = move ? (met ? '#1a7f37' : '#cf222e') : '#afb8c1';
    parts.push(
      `<line class="gate" x1="${x(g.phase)}" y1="${y(g.cluster)}" x2="${x(g.peerPhase)}" y2="${y(g.peer)}" stroke="${color}" ` +
        `stroke-width="${move ? 2.5 : 1}" stroke-dasharray="${move ? '' : '4 3'}">` +
        `<title>${esc(`${g.cluster} enters ${g.phase} once ${g.peer} is at ${g.peerPhase}`)}</title></line>`,
    );
  }
  const my = y(r.cluster);
  const dir = r.direction === 'forward' ? 1 : -1;
  parts.push(
    `<line class="move" x1="${x(r.from) + dir * 10}" y1="${my - 14}" x2="${x(r.to) - dir * 10}" y2="${my - 14}" ` +
      'stroke="#0969da" stroke-width="3" marker-end="url(#arrow)">' +
      `<title>${esc(`this record: ${r.from} → ${r.to}`)}</title></line>`,
  );
  parts.push(
    `<text x="8" y="${height - 8}" font-size="11" fill="#57606a">● pointer   ○ what dist/ delivers, if not the pointer   → this move   ` +
      `— gate (green met, red not met, grey other moves)</text>`,
  );
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="${esc(`timeline of ${t.clusters.length} clusters by phase`)}" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${parts.join('')}</svg>`;
}

/** The flows verification checks: this cluster's clients on the left, who serves each host on the right. */
export function flowsSvg(r: ChangeRecord): string {
  if (r.flows.length === 0) return '';
  const servers = [...new Set(r.flows.map((f) => f.to))];
  const h = 40 + r.flows.length * 34;
  const sy = (s: string) => 30 + ((servers.indexOf(s) + 0.5) * (h - 40)) / servers.length;
  const parts = [
    `<rect x="10" y="20" width="220" height="${h - 30}" rx="8" fill="#ddf4ff" stroke="#0969da"/>`,
    `<text x="20" y="38" font-size="13" font-weight="bold">${esc(r.cluster)} (clients)</text>`,
  ];
  servers.forEach((s) =>
    parts.push(
      `<rect x="620" y="${sy(s) - 16}" width="170" height="32" rx="8" fill="#dafbe1" stroke="#1a7f37"/>`,
      `<text x="630" y="${sy(s) + 5}" font-size="13">${esc(s)}</text>`,
    ),
  );
  r.flows.forEach((f, i) => {
    const fy = 55 + i * 34;
    parts.push(
      `<text x="20" y="${fy + 4}" font-size="11">${esc(f.from)}</text>`,
      `<line class="flow" x1="230" y1="${fy}" x2="620" y2="${sy(f.to)}" stroke="#57606a" stroke-width="1.5"/>`,
      `<text x="250" y="${fy - 4}" font-size="11" fill="#0969da">${esc(f.host)}</text>`,
    );
  });
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="flows checked" width="800" height="${h}" viewBox="0 0 800 ${h}">${parts.join('')}</svg>`;
}

function objectList(list: readonly RecordObject[]): string {
  return `<ul>${list.map((o) => `<li><code>${esc(objectName(o))}</code></li>`).join('') || '<li>nothing</li>'}</ul>`;
}

function diffHtml(patch: string): string {
  return patch
    .split('\n')
    .map((l) => {
      const cls = l.startsWith('@@')
        ? 'at'
        : l.startsWith('+') && !l.startsWith('+++')
          ? 'add'
          : l.startsWith('-') && !l.startsWith('---')
            ? 'del'
            : '';
      return cls ? `<span class="${cls}">${esc(l)}</span>` : esc(l);
    })
    .join('\n');
}

/** The change record as one self-contained HTML page: inline styles, inline SVG, no script, nothing fetched. */
export function renderReportHtml(r: ChangeRecord): string {
  const code = (s: string) => `<code>${esc(s)}</code>`;
  const v = r.verdict;
  const body = [
    `<h1>Change record: ${esc(r.cluster)} ${esc(r.from)} → ${esc(r.to)}</h1>`,
    `<p><strong>${esc(r.direction === 'forward' ? r.title : `Rollback to ${r.to}`)}.</strong> ${esc(r.what)}</p>`,
    ...r.notes.map((n) => `<blockquote>${esc(n)}</blockquote>`),
    `<p>Rehearsal verdict: <span class="${v.status === 'passed' ? 'passed' : 'failed'}">${esc(v.status)}</span>` +
      `${v.reason ? ` — ${esc(v.reason)}` : ''}</p>`,
    '<h2>Timeline</h2>',
    timelineSvg(r),
    '<h2>Gates</h2>',
    r.blockedBy.length ? `<p class="no">Blocked: ${esc(r.blockedBy.join('; '))}</p>` : '',
    table(
      ['peer', 'must be at', 'is at', 'met', 'why'],
      r.gates.map((g) => [esc(g.cluster), code(g.phase), code(g.pointer), g.met ? 'yes' : '<span class="no">no</span>', esc(g.reason)]),
    ),
    '<h2>Pre-flight (before the merge)</h2>',
    commands(r.preflight, 'Nothing beyond the gates.'),
    '<h2>Objects, in the order the sync applies them</h2>',
    table(
      ['#', 'phase', 'wave', 'action', 'object', 'apiVersion'],
      r.steps.map((s, i) => [
        String(i + 1),
        esc(s.phase),
        String(s.wave),
        `<span class="${s.action.startsWith('prune') ? 'prune' : s.action}">${esc(s.action)}</span>`,
        code(objectName(s.object)),
        esc(s.object.apiVersion),
      ]),
    ),
    '<h2>What the hook Jobs do besides</h2>',
    table(
      ['Job', 'does', 'to', 'how'],
      r.hooks.map((h) => [code(objectName(h.job)), esc(h.op), code(h.target), esc(h.detail)]),
    ),
    '<h2>Workloads that restart</h2>',
    table(
      ['workload', 'replicas', 'strategy', 'why', 'expected disruption'],
      r.restarts.map((w) => [
        code(`${w.kind} ${w.namespace}/${w.name}`),
        w.replicas === undefined ? '?' : String(w.replicas),
        esc(w.strategy),
        esc(w.why),
        esc(w.disruption),
      ]),
    ),
    '<h2>Access: AuthorizationPolicy and NetworkPolicy</h2>',
    table(
      ['policy', 'change', 'applies to', 'gain access', 'lose access'],
      r.access.map((a) => [
        code(objectName(a.policy)),
        esc(a.change),
        esc(a.scope),
        esc(a.gains.join('; ') + (a.note ? ` (${a.note})` : '')),
        esc(a.loses.join('; ')),
      ]),
    ),
    '<h2>Verification (after the sync is Healthy)</h2>',
    commands(r.verification, 'Nothing to verify beyond a Synced and Healthy sync.'),
    '<h2>Rollback</h2>',
    `<p>${esc(r.rollback.text)}</p>`,
    `<p>It prunes ${r.rollback.prunes.length} object(s):</p>${objectList(r.rollback.prunes)}`,
    r.rollback.keeps.length
      ? `<p>It leaves in place ${r.rollback.keeps.length} object(s) this move adds (<code>Prune=false</code>):</p>${objectList(r.rollback.keeps)}`
      : '',
    `<p>It applies again ${r.rollback.restores.length} object(s) this move takes away:</p>${objectList(r.rollback.restores)}`,
    '<h2>Rehearsal verdict</h2>',
    table(
      ['engine', 'scenario', 'move', 'result', 'virtual seconds'],
      v.moves.map((m) => [
        esc(m.engine),
        esc(m.scenario),
        esc(m.move),
        m.ok ? 'passes' : '<span class="no">fails</span>',
        String(m.seconds),
      ]),
    ),
    v.findings.length
      ? `<ul>${v.findings.map((f) => `<li>${esc(`[${f.engine} ${f.scenario} ${f.move}] ${f.why} Fix: ${f.fix}`)}</li>`).join('')}</ul>`
      : '',
    '<h2>Flows checked</h2>',
    flowsSvg(r),
    table(
      ['from', 'host', 'served by'],
      r.flows.map((f) => [esc(f.from), code(f.host), esc(f.to)]),
    ),
    '<h2>Diff of the desired state</h2>',
    `<p>${r.diff.length} object(s) differ between <code>${esc(r.from)}</code> (${esc(r.sources.from)}) ` +
      `and <code>${esc(r.to)}</code> (${esc(r.sources.to)}).</p>`,
    ...r.diff.map(
      (d) =>
        `<details><summary>${esc(d.change)}: ${code(objectName(d.object))} (${esc(d.object.apiVersion)})</summary>` +
        `<pre>${diffHtml(d.patch)}</pre></details>`,
    ),
  ];
  return [
    '<!DOCTYPE html>',
    '<html lang="en">',
    '<head>',
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${esc(`meshfed change record: ${r.cluster} ${r.from} → ${r.to}`)}</title>`,
    `<style>${CSS}</style>`,
    '</head>',
    '<body>',
    ...body.filter((b) => b !== ''),
    '</body>',
    '</html>',
    '',
  ].join('\n');
}

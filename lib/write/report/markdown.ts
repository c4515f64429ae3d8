import { ChangeRecord, objectName, RecordCommand, RecordObject } from './types';

/** A table cell: pipes escaped, never empty. */
function cell(text: string): string {
  return (text || '—').replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(head: string[], rows: string[][]): string[] {
  if (rows.length === 0) return ['None.', ''];
  return [`| ${head.join(' | ')} |`, `| ${head.map(() => '---').join(' | ')} |`, ...rows.map((r) => `| ${r.map(cell).join(' | ')} |`), ''];
}

/** Commands as a shell block, each followed by the output it expects. */
function commands(list: readonly RecordCommand[], none: string): string[] {
  if (list.length === 0) return [none, ''];
  return ['```sh', ...list.map((c) => (c.expect ? `${c.command}\n#   expect: ${c.expect}` : c.command)), '```', ''];
}

function code(o: RecordObject): string {
  return `\`${objectName(o)}\``;
}

/** The engines' order, the hooks' effects and the restarts. */
function changeSections(r: ChangeRecord): string[] {
  const counts = (a: string) => r.steps.filter((s) => s.action === a).length;
  return [
    '## Objects, in the order the sync applies them',
    '',
    `${counts('create')} created, ${counts('update')} changed, ${counts('unchanged')} unchanged, ${counts('prune')} pruned` +
      `${counts('prune-skipped') ? `, ${counts('prune-skipped')} left in place (\`Prune=false\`)` : ''}, ${counts('hook')} hook(s). ` +
      'Argo CD runs them in this order: sync phase, wave, kind, name; prunes in reverse wave order, `PruneLast` ones after the ' +
      'last wave (argo-cd v3.4.0 gitops-engine/pkg/sync/sync_tasks.go, sync_context.go). Flux applies the same objects in ' +
      'stages (cluster definitions and Namespaces first, then the rest), waits for health, then garbage-collects what the ' +
      'phase no longer declares (fluxcd/pkg ssa; docs/gitops.md).',
    '',
    ...table(
      ['#', 'phase', 'wave', 'action', 'object', 'apiVersion'],
      r.steps.map((s, i) => [String(i + 1), s.phase, String(s.wave), s.action, code(s.object), s.object.apiVersion]),
    ),
    '## What the hook Jobs do besides',
    '',
    ...table(
      ['Job', 'does', 'to', 'how'],
      r.hooks.map((h) => [code(h.job), h.op, `\`${h.target}\``, h.detail]),
    ),
    '## Workloads that restart',
    '',
    ...table(
      ['workload', 'replicas', 'strategy', 'why', 'expected disruption'],
      r.restarts.map((w) => [
        `\`${w.kind} ${w.namespace}/${w.name}\``,
        w.replicas === undefined ? '?' : String(w.replicas),
        w.strategy,
        w.why,
        w.disruption,
      ]),
    ),
    '## Access: AuthorizationPolicy and NetworkPolicy',
    '',
    ...table(
      ['policy', 'change', 'applies to', 'gain access', 'lose access'],
      r.access.map((a) => [code(a.policy), a.change, a.scope, a.gains.join('; ') + (a.note ? ` (${a.note})` : ''), a.loses.join('; ')]),
    ),
  ];
}

/** Gates and pre-flight: what must hold before the merge. */
function beforeSections(r: ChangeRecord): string[] {
  return [
    '## Gates',
    '',
    ...(r.blockedBy.length ? [`**Blocked:** ${r.blockedBy.join('; ')}`, ''] : []),
    ...table(
      ['peer', 'must be at', 'is at', 'met', 'why'],
      r.gates.map((g) => [g.cluster, `\`${g.phase}\` or later`, `\`${g.pointer}\``, g.met ? 'yes' : '**no**', g.reason]),
    ),
    '## Pre-flight (before the merge)',
    '',
    ...commands(r.preflight, 'Nothing beyond the gates.'),
  ];
}

/** Verification, rollback, the verdict and the flows. */
function afterSections(r: ChangeRecord): string[] {
  const v = r.verdict;
  return [
    '## Verification (after the sync is Healthy)',
    '',
    ...commands(r.verification, 'Nothing to verify beyond a Synced and Healthy sync.'),
    '## Rollback',
    '',
    r.rollback.text,
    '',
    `It prunes ${r.rollback.prunes.length} object(s):`,
    '',
    ...(r.rollback.prunes.length ? r.rollback.prunes.map((o) => `- ${code(o)}`) : ['- nothing']),
    '',
    ...(r.rollback.keeps.length
      ? [
          `It leaves in place ${r.rollback.keeps.length} object(s) this move adds (\`Prune=false\`):`,
          '',
          ...r.rollback.keeps.map((o) => `- ${code(o)}`),
          '',
        ]
      : []),
    `It applies again ${r.rollback.restores.length} object(s) this move takes away:`,
    '',
    ...(r.rollback.restores.length ? r.rollback.restores.map((o) => `- ${code(o)}`) : ['- nothing']),
    '',
    '## Rehearsal verdict',
    '',
    `**${v.status}**${v.reason ? ` — ${v.reason}` : ''}`,
    '',
    ...(v.moves.length
      ? table(
          ['engine', 'scenario', 'move', 'result', 'virtual seconds'],
          v.moves.map((m) => [m.engine, m.scenario, m.move, m.ok ? 'passes' : '**fails**', String(m.seconds)]),
        )
      : []),
    ...v.findings.flatMap((f) => [`- [${f.engine} ${f.scenario} ${f.move}] ${f.why} Fix: ${f.fix}`]),
    ...(v.findings.length ? [''] : []),
    '## Flows checked',
    '',
    ...table(
      ['from', 'host', 'served by'],
      r.flows.map((f) => [f.from, `\`${f.host}\``, f.to]),
    ),
  ];
}

/** The rendered diff, one block per object. */
function diffSection(r: ChangeRecord): string[] {
  const out = [
    '## Diff of the desired state',
    '',
    `What \`kubectl kustomize\` gives for \`${r.from}\` (${r.sources.from}) against \`${r.to}\` (${r.sources.to}), ` +
      `import folders included; ${r.diff.length} object(s) differ.`,
    '',
  ];
  for (const d of r.diff)
    out.push(`### ${d.change}: ${code(d.object)} (${d.object.apiVersion})`, '', '```diff', d.patch.trimEnd(), '```', '');
  return out;
}

/** The change record as markdown: deterministic (no dates, no durations of this machine), every object named. */
export function renderReportMarkdown(r: ChangeRecord): string {
  const out = [
    `# Change record: ${r.cluster} ${r.from} → ${r.to}`,
    '',
    `_Generated by \`meshfed report ${r.cluster} --from ${r.from} --to ${r.to}\`._`,
    '',
    `**${r.direction === 'forward' ? r.title : `Rollback to ${r.to}`}.** ${r.what}`,
    '',
    ...r.notes.map((n) => `> ${n}`),
    ...(r.notes.length ? [''] : []),
    ...beforeSections(r),
    ...changeSections(r),
    ...afterSections(r),
    ...diffSection(r),
  ];
  return (
    out
      .join('\n')
      .replace(/\n{3,}/g, '\n\n')
      .trimEnd() + '\n'
  );
}

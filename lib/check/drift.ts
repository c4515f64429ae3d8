import { CheckContext } from './context';
import { Finding } from './finding';
import { StatusEntry } from '../load/inventory-types';
import { exportSetStatus, importSetStatus } from '../model/status';

function key(e: StatusEntry): string {
  return `${e.exportedName} → ${e.localService.hostname || '(not imported)'}`;
}

/** MF013: where the dumps carry ESS/ISS status, the live mesh must agree with meshfed's model. */
export function checkDrift({ model }: CheckContext): Finding[] {
  const out: Finding[] = [];
  for (const l of model.links) {
    for (const [set, computed, what] of [
      [l.exportSet, () => exportSetStatus(model, l), 'exports'],
      [l.importSet, () => importSetStatus(model, l), 'imports'],
    ] as const) {
      if (!set?.status) continue;
      const live = new Set(set.status.map(key));
      const mine = new Set(computed().map(key));
      const onlyLive = [...live].filter((k) => !mine.has(k)).sort();
      const onlyMine = [...mine].filter((k) => !live.has(k)).sort();
      if (onlyLive.length === 0 && onlyMine.length === 0) continue;
      out.push({
        rule: 'MF013',
        severity: 'warning',
        cluster: l.local,
        location: set.source.at(['status']),
        problem:
          `the live mesh ${what} differently from meshfed's model of ${set.source.label}: ` +
          `${[...onlyLive.map((k) => `live only: ${k}`), ...onlyMine.map((k) => `model only: ${k}`)].join('; ')}.`,
        fix:
          'Stop and look: dump the objects again (a Service or rule may have changed since), and ' +
          'check the inventory is complete before migrating.',
      });
    }
  }
  return out;
}

import { MemoFamily, memoFamily, PhaseState, States } from '../lib/check/state';
import { PhaseId, PhasePlan, Plan } from '../lib/plan/types';

// The checks' memo families (lib/check/state.ts) on a hand-made plan: 00 adds nothing, 01 only patches,
// 02 changes nothing.
const PHASES: PhaseId[] = ['00-federation', '01-prepare', '02-export'];

function phasePlan(phase: PhaseId, patched: boolean): PhasePlan {
  const patch = { spec: { techPreview: { meshConfig: { trustDomainAliases: ['peer.local'] } } } };
  return {
    cluster: 'east',
    phase,
    adds: [],
    shards: [],
    patches: patched ? [{ type: 'merge', target: { apiVersion: 'v1', kind: 'Namespace', name: 'bookinfo' }, patch, why: 'test' }] : [],
    deletes: [],
    waitsFor: [],
    blockedBy: [],
  };
}

function plan(): Plan {
  return {
    clusters: ['east'],
    local: ['east'],
    phases: PHASES,
    pointers: { east: '00-federation' },
    byCluster: { east: PHASES.map((p) => phasePlan(p, p === '01-prepare')) },
    settings: {},
  };
}

describe('memo families', () => {
  test('two families asked with the same key keep their own values', () => {
    const state = new States(plan()).get('east', '00-federation');
    const first = memoFamily<string, string>();
    const second = memoFamily<string, string>();
    const link = { name: 'east-west' };
    const byObject = memoFamily<object, string>();
    const otherByObject = memoFamily<object, string>();
    expect(state.memo(first, 'bookinfo', () => 'first')).toBe('first');
    expect(state.memo(second, 'bookinfo', () => 'second')).toBe('second');
    expect(state.memo(first, 'bookinfo', () => 'computed again')).toBe('first');
    expect(state.memo(byObject, link, () => 'by object')).toBe('by object');
    expect(state.memo(otherByObject, link, () => 'other')).toBe('other');
    // The same holds for families that depend on the patches.
    const a = memoFamily<string, number>({ withPatches: true });
    const b = memoFamily<string, number>({ withPatches: true });
    expect([state.memo(a, 'k', () => 1), state.memo(b, 'k', () => 2)]).toEqual([1, 2]);
  });

  test('computes each value once, undefined included', () => {
    const state = new States(plan()).get('east', '00-federation');
    const family = memoFamily<string, string | undefined>();
    let calls = 0;
    const compute = () => {
      calls++;
      return undefined;
    };
    expect(state.memo(family, 'k', compute)).toBeUndefined();
    expect(state.memo(family, 'k', compute)).toBeUndefined();
    expect(calls).toBe(1);
  });

  test('objects-only values are shared by phases that change no object; values with patches are not', () => {
    const states = new States(plan());
    const [s0, s1, s2] = PHASES.map((p) => states.get('east', p));
    const objectsOnly = memoFamily<string, string>();
    const withPatches = memoFamily<string, string>({ withPatches: true });
    for (const s of [s0, s1, s2]) {
      askPhase(s, objectsOnly);
      askPhase(s, withPatches);
    }
    // 01 and 02 add and delete nothing: the objects-only value computed at 00 is theirs too.
    expect([s0, s1, s2].map((s) => s.memo(objectsOnly, 'k', () => 'new'))).toEqual(['00-federation', '00-federation', '00-federation']);
    expect([s0, s1, s2].map((s) => s.memo(withPatches, 'k', () => 'new'))).toEqual(['00-federation', '01-prepare', '02-export']);
    expect(s1.patches).toHaveLength(1);
  });
});

/** Ask `family` for key 'k' in `s`, computing the state's phase on the first question. */
function askPhase(s: PhaseState, family: MemoFamily<string, string>): string {
  return s.memo(family, 'k', () => s.phase);
}

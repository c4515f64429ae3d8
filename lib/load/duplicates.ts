import { compareStrings } from '../sort';
import { stripServerFields } from './strip';
import { formatPath, Json, JsonObject, SourceObject } from './yaml-source';

/** A field whose value differs between two copies of an object (undefined: absent from that copy). */
export interface Difference {
  readonly path: (string | number)[];
  readonly first: Json | undefined;
  readonly second: Json | undefined;
}

const isObject = (v: Json | undefined): v is JsonObject => v !== null && typeof v === 'object' && !Array.isArray(v);

/** Every leaf path where `a` and `b` differ, keys in compareStrings order, list items by index. */
export function differences(
  a: Json | undefined,
  b: Json | undefined,
  path: (string | number)[] = [],
  out: Difference[] = [],
): Difference[] {
  if (isObject(a) && isObject(b)) {
    for (const k of [...new Set([...Object.keys(a), ...Object.keys(b)])].sort(compareStrings)) differences(a[k], b[k], [...path, k], out);
  } else if (Array.isArray(a) && Array.isArray(b)) {
    for (let i = 0; i < Math.max(a.length, b.length); i++) differences(a[i], b[i], [...path, i], out);
  } else if (JSON.stringify(a) !== JSON.stringify(b)) {
    out.push({ path, first: a, second: b });
  }
  return out;
}

/** Which of two copies of one object is the newer by content, and why; `copy` undefined when it cannot be told. */
export interface Newer {
  readonly copy?: 'first' | 'second';
  readonly reason: string;
}

/** A resourceVersion as the API server writes it: a positive integer without leading zeros (KEP-5504). */
function resourceVersion(m: JsonObject): bigint | undefined {
  const v = m.resourceVersion;
  return typeof v === 'string' && /^[1-9][0-9]*$/.test(v) ? BigInt(v) : undefined;
}

/**
 * Which copy is newer, from what the API server wrote into them: metadata.resourceVersion first (two
 * copies of one object from one cluster's API server are versions of the same resource, and since
 * Kubernetes 1.35 resourceVersions of one resource compare as integers: KEP-5504,
 * https://www.kubernetes.dev/resources/keps/5504/, and k8s.io/apimachinery pkg/util/resourceversion
 * CompareResourceVersion), then metadata.generation (the same object, by uid), then
 * metadata.creationTimestamp (the object was deleted and created again between the two dumps).
 */
export function newerCopy(first: JsonObject, second: JsonObject): Newer {
  const meta = (o: JsonObject): JsonObject => (isObject(o.metadata) ? o.metadata : {});
  const [a, b] = [meta(first), meta(second)];
  const pick = (cmp: number, reason: string): Newer => ({ copy: cmp > 0 ? 'first' : 'second', reason });
  const [ra, rb] = [resourceVersion(a), resourceVersion(b)];
  if (ra !== undefined && rb !== undefined) {
    if (ra === rb) return { reason: `both copies have metadata.resourceVersion ${ra}: the same version, dumped twice` };
    return pick(ra > rb ? 1 : -1, `metadata.resourceVersion ${ra > rb ? `${ra} > ${rb}` : `${rb} > ${ra}`}`);
  }
  const sameUid = typeof a.uid === 'string' && a.uid === b.uid;
  if (sameUid && typeof a.generation === 'number' && typeof b.generation === 'number' && a.generation !== b.generation)
    return pick(
      a.generation - b.generation,
      `metadata.generation ${Math.max(a.generation, b.generation)} > ${Math.min(a.generation, b.generation)}`,
    );
  const [ca, cb] = [a.creationTimestamp, b.creationTimestamp].map((t) => (typeof t === 'string' ? Date.parse(t) : NaN));
  if (!Number.isNaN(ca) && !Number.isNaN(cb) && ca !== cb)
    return pick(
      ca - cb,
      `metadata.creationTimestamp ${String(ca > cb ? a.creationTimestamp : b.creationTimestamp)} > ` +
        `${String(ca > cb ? b.creationTimestamp : a.creationTimestamp)}: deleted and created again between the two dumps`,
    );
  return { reason: 'neither metadata.resourceVersion, generation nor creationTimestamp tells them apart' };
}

/** A value as a message shows it: JSON, cut at 40 characters; "absent" when the copy lacks the field. */
function shown(v: Json | undefined): string {
  if (v === undefined) return 'absent';
  const s = JSON.stringify(v);
  return s.length > 40 ? `${s.slice(0, 39)}…` : s;
}

const LISTED = 4;

/**
 * How a second copy of an object differs from the first, for the "defined twice" error: the fields
 * whose values differ (server noise such as status, resourceVersion and managedFields left out, as
 * lib/load/strip.ts strips it from what meshfed renders) and which copy is newer by content.
 */
export function describeCopies(first: SourceObject, second: SourceObject): string {
  const diff = differences(stripServerFields(first.value), stripServerFields(second.value));
  const newer = newerCopy(first.value, second.value);
  const fields = diff
    .slice(0, LISTED)
    .map((d) => `${formatPath(d.path)} (first: ${shown(d.first)}, here: ${shown(d.second)})`)
    .join(', ');
  const more = diff.length > LISTED ? ` and ${diff.length - LISTED} more` : '';
  const content =
    diff.length === 0
      ? 'The copies are the same apart from server fields (status, resourceVersion, managedFields…).'
      : `The copies differ in ${diff.length === 1 ? 'one field' : `${diff.length} fields`}: ${fields}${more}.`;
  const which = newer.copy === 'second' ? 'This copy is the newer' : newer.copy === 'first' ? 'The first copy is the newer' : undefined;
  return `${content} ${which ? `${which} (${newer.reason}).` : `Which is newer cannot be told: ${newer.reason}.`}`;
}

/** The same for a whole file dumped twice: how many of its objects differ, and which dump is newer. */
export function describeFileCopies(firstFile: string, pairs: readonly (readonly [SourceObject, SourceObject])[]): string {
  const differing = pairs
    .map(([a, b]) => ({ o: b, diff: differences(stripServerFields(a.value), stripServerFields(b.value)) }))
    .filter((x) => x.diff.length > 0);
  const content =
    differing.length === 0
      ? 'The copies are the same apart from server fields.'
      : `${differing.length} of them differ, e.g. ${differing[0].o.label} in ${formatPath(differing[0].diff[0].path)}.`;
  const verdicts = new Set(pairs.map(([a, b]) => newerCopy(a.value, b.value).copy));
  const only = verdicts.size === 1 ? [...verdicts][0] : undefined;
  const which =
    only === 'second'
      ? 'This file is the newer dump (by metadata.resourceVersion, generation or creationTimestamp).'
      : only === 'first'
        ? `${firstFile} is the newer dump (by metadata.resourceVersion, generation or creationTimestamp).`
        : 'Which dump is newer cannot be told from the objects.';
  return `${content} ${which}`;
}

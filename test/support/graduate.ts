/**
 * A migration at its end, for meshfed graduate: a copy of a clusters folder with every cluster at 07-finalize, and
 * on every dumped object what real clusters carry besides what the examples show.
 */
import * as fs from 'fs';
import * as path from 'path';

import { parseAllDocuments, parseDocument, YAMLSeq } from 'yaml';

import { copyTree } from './fixtures';

export const PRODUCTION = path.join(__dirname, '..', '..', 'examples', 'production-smcp', 'clusters');

function edit(file: string, fn: (doc: ReturnType<typeof parseDocument>) => void): void {
  const doc = parseDocument(fs.readFileSync(file, 'utf8'));
  fn(doc);
  fs.writeFileSync(file, doc.toString());
}

/**
 * What a real cluster's objects carry besides what the examples show: on every dumped object a label and
 * an annotation of its owners, and on every Namespace what `oc new-project` writes (openshift.io/description,
 * display-name, requester). A graduated declaration must keep each of them wherever 07 declares it.
 */
export function annotate(dir: string): void {
  for (const c of fs.readdirSync(dir).filter((c) => fs.existsSync(path.join(dir, c, 'ossm2')))) {
    for (const f of fs.readdirSync(path.join(dir, c, 'ossm2'))) {
      const file = path.join(dir, c, 'ossm2', f);
      const docs = parseAllDocuments(fs.readFileSync(file, 'utf8'));
      for (const d of docs) {
        const paths: (string | number)[][] =
          d.get('kind') === 'List' ? (d.get('items') as YAMLSeq).items.map((_, i) => ['items', i]) : [[]];
        for (const at of paths) {
          const kind = d.getIn([...at, 'kind']) as string;
          d.setIn([...at, 'metadata', 'labels', 'example.com/team'], 'payments');
          d.setIn([...at, 'metadata', 'annotations', 'example.com/owner'], 'payments@example.com');
          if (kind !== 'Namespace') continue;
          const name = d.getIn([...at, 'metadata', 'name']) as string;
          d.setIn([...at, 'metadata', 'annotations', 'openshift.io/description'], `The ${name} project`);
          d.setIn([...at, 'metadata', 'annotations', 'openshift.io/display-name'], name.toUpperCase());
          d.setIn([...at, 'metadata', 'annotations', 'openshift.io/requester'], 'kube:admin');
        }
      }
      fs.writeFileSync(file, docs.map((d) => d.toString()).join('---\n'));
    }
  }
}

/** Every cluster at 07-finalize, and (production) the addons 07 would delete switched off as MF016 asks. */
export function finished(from: string): string {
  const dir = copyTree(from);
  annotate(dir);
  for (const c of fs.readdirSync(dir).filter((c) => fs.existsSync(path.join(dir, c, 'cluster.yaml'))))
    edit(path.join(dir, c, 'cluster.yaml'), (d) => d.setIn(['spec', 'phase'], '07-finalize'));
  const smcp = path.join(dir, 'east', 'ossm2', 'smcp.yaml');
  if (from === PRODUCTION)
    edit(smcp, (d) => {
      for (const at of [['spec'], ['status', 'appliedSpec']]) {
        d.setIn([...at, 'addons', 'grafana', 'enabled'], false);
        d.setIn([...at, 'tracing', 'type'], 'None');
      }
    });
  return dir;
}

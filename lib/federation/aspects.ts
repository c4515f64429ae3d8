import { IConstruct } from 'constructs';

/**
 * An aspect visits constructs before they are written: to add labels, to check a policy, to set what every
 * object of a kind needs. The contract of the AWS CDK's `IAspect`
 * (https://docs.aws.amazon.com/cdk/v2/guide/aspects.html): cdk8s itself has none
 * (https://github.com/cdk8s-team/cdk8s/issues/1312, closed unimplemented; cdk8s@2.70.106 lib/app.js `App.synth`
 * validates, resolves dependencies and writes the charts, and runs no aspects), so meshfed provides it for what a
 * Federation writes.
 */
export interface IAspect {
  /** Called once for each construct in the scope the aspect was added to, parents before their children. */
  visit(node: IConstruct): void;
}

const REGISTRY = new WeakMap<IConstruct, Aspects>();

/**
 * The aspects of a construct: `Aspects.of(fed).add(aspect)`. A {@link Federation} applies, before it writes,
 * the aspects of itself, of its ancestors (the App included) and of every construct under it to every object
 * it renders: meshfed's own (imported ServiceEntries and WorkloadEntries included) and those the app adds to a
 * phase. Aspects of constructs outside a Federation are not applied by anything (cdk8s has no aspects).
 */
export class Aspects {
  /** The aspects of `scope` (created on first use). */
  public static of(scope: IConstruct): Aspects {
    let aspects = REGISTRY.get(scope);
    if (!aspects) {
      aspects = new Aspects();
      REGISTRY.set(scope, aspects);
    }
    return aspects;
  }

  private readonly list: IAspect[] = [];

  private constructor() {}

  /** Apply `aspect` to this construct and everything under it. Adding the same aspect twice applies it once. */
  public add(aspect: IAspect): void {
    if (!this.list.includes(aspect)) this.list.push(aspect);
  }

  /** The aspects added here, in the order they were added. */
  public get all(): readonly IAspect[] {
    return [...this.list];
  }
}

/** The aspects `scope` inherits: those of its ancestors, outermost first, and its own. */
export function inheritedAspects(scope: IConstruct): IAspect[] {
  return scope.node.scopes.flatMap((s) => Aspects.of(s).all);
}

/**
 * Visit `root` and every construct under it with the aspects it inherits from `outer` and from its own
 * ancestors up to `root`, each aspect once per construct. A construct an aspect adds under one not yet
 * visited is visited too (children are listed after their parent's visit).
 */
export function invokeAspects(root: IConstruct, outer: readonly IAspect[]): void {
  const visit = (node: IConstruct, inherited: readonly IAspect[]) => {
    const aspects = [...inherited, ...Aspects.of(node).all.filter((a) => !inherited.includes(a))];
    for (const a of aspects) a.visit(node);
    for (const child of node.node.children) visit(child, aspects);
  };
  visit(root, outer);
}

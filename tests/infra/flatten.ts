import { NestedStack, type Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

// biome-ignore lint/suspicious/noExplicitAny: CloudFormation templates are untyped JSON.
type Json = any;

/** Replaces every `{Ref: name}` whose name is a key of `refs`, and every `Fn::GetAtt` `atts` names. */
function substitute(
  value: Json,
  refs: Map<string, Json>,
  atts: (id: string, att: string) => Json,
): Json {
  if (Array.isArray(value)) return value.map((v) => substitute(v, refs, atts));
  if (value === null || typeof value !== 'object') return value;
  const keys = Object.keys(value);
  if (keys.length === 1 && keys[0] === 'Ref' && refs.has(value.Ref)) return refs.get(value.Ref);
  if (keys.length === 1 && keys[0] === 'Fn::GetAtt') {
    const [id, att] = value['Fn::GetAtt'] as [string, string];
    const resolved = atts(id, att);
    if (resolved !== undefined) return resolved;
  }
  return Object.fromEntries(keys.map((k) => [k, substitute(value[k], refs, atts)]));
}

/** The templates of `stack`'s nested stacks (one level: the domains' function stacks), by logical id of their stack resource. */
export function nestedTemplates(
  stack: Stack,
): Map<string, { nested: NestedStack; template: Json }> {
  const found = new Map<string, { nested: NestedStack; template: Json }>();
  for (const child of stack.node.findAll()) {
    if (!NestedStack.isNestedStack(child) || child.nestedStackParent !== stack) continue;
    const id = stack.getLogicalId(child.nestedStackResource as never);
    found.set(id, { nested: child, template: Template.fromStack(child).toJSON() });
  }
  return found;
}

/**
 * `stack`'s template with its nested stacks folded in, as if it were one stack: every
 * nested resource under its own logical id, each nested parameter replaced by what the
 * parent passes, each parent `Fn::GetAtt` of a nested output replaced by the output's value,
 * and the nested stack's own `DependsOn` carried by each of its resources (CloudFormation
 * creates them only after it). So the synth tests assert on the deployed whole, wherever a
 * resource lives. Errors: two stacks using one logical id.
 */
export function flattenedTemplate(stack: Stack): Template {
  const parent = Template.fromStack(stack).toJSON();
  const nested = nestedTemplates(stack);
  const outputs = new Map<string, Map<string, Json>>();
  const resources: Record<string, Json> = {};
  for (const [id, { template }] of nested) {
    const stackResource = parent.Resources[id];
    const parameters = new Map<string, Json>(
      Object.entries(stackResource.Properties?.Parameters ?? {}),
    );
    const inner = (value: Json) => substitute(value, parameters, () => undefined);
    outputs.set(
      id,
      new Map(
        Object.entries(template.Outputs ?? {}).map(([name, o]) => [name, inner((o as Json).Value)]),
      ),
    );
    for (const [rid, resource] of Object.entries(template.Resources ?? {})) {
      if (resources[rid] || parent.Resources[rid])
        throw new Error(`logical id ${rid} is used twice`);
      const flat = inner(resource);
      const dependsOn = [...(flat.DependsOn ?? []), ...(stackResource.DependsOn ?? [])];
      resources[rid] = dependsOn.length ? { ...flat, DependsOn: dependsOn } : flat;
    }
  }
  const outer = (value: Json) =>
    substitute(value, new Map(), (id, att) =>
      outputs.get(id) && att.startsWith('Outputs.')
        ? outputs.get(id)?.get(att.slice(8))
        : undefined,
    );
  for (const [rid, resource] of Object.entries(parent.Resources)) {
    if (nested.has(rid)) continue;
    resources[rid] = outer(resource);
  }
  // Waiting for a nested stack is waiting for each of its resources.
  for (const resource of Object.values(resources)) {
    if (!resource.DependsOn) continue;
    resource.DependsOn = [
      ...new Set(
        (resource.DependsOn as string[]).flatMap((d) =>
          nested.has(d) ? Object.keys(nested.get(d)?.template.Resources ?? {}) : [d],
        ),
      ),
    ];
  }
  return Template.fromJSON({
    ...parent,
    Resources: resources,
    Outputs: outer(parent.Outputs ?? {}),
  });
}

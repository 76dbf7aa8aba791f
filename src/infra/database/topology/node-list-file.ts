import { readFile, stat } from 'node:fs/promises';
import { z } from 'zod';
import { type DbNodeConfig, dbNodeSchema } from '../../../config';

const nodeListSchema = z.object({
  nodes: z
    .array(dbNodeSchema)
    .min(1, 'lists no node')
    .refine((nodes) => new Set(nodes.map((n) => n.name)).size === nodes.length, 'names a node twice'),
});

export type NodeListRead =
  | { readonly kind: 'unchanged' }
  | { readonly kind: 'nodes'; readonly nodes: readonly DbNodeConfig[] }
  | { readonly kind: 'invalid'; readonly problem: string };

/**
 * Service discovery through a file (`{"nodes":[{"name":"replica-3","url":"postgres://..."}]}`), the local
 * equivalent of GitLab's DNS SRV discovery: whoever adds a replica rewrites the file, every instance re-reads it.
 * The file is re-read only when its mtime or size changes, so polling it every monitor interval costs one stat().
 */
export class NodeListFile {
  private version = '';

  constructor(readonly path: string) {}

  async read(): Promise<NodeListRead> {
    let version: string;
    try {
      const s = await stat(this.path);
      version = `${s.mtimeMs}:${s.size}`;
    } catch (err) {
      return this.changed(`missing:${(err as NodeJS.ErrnoException).code}`, () => ({
        kind: 'invalid',
        problem: `cannot read it (${(err as NodeJS.ErrnoException).code})`,
      }));
    }
    if (version === this.version) return { kind: 'unchanged' };
    const text = await readFile(this.path, 'utf8').catch(() => undefined);
    return this.changed(version, () => parseNodeList(text));
  }

  private changed(version: string, parse: () => NodeListRead): NodeListRead {
    if (version === this.version) return { kind: 'unchanged' };
    this.version = version;
    return parse();
  }
}

export function parseNodeList(text: string | undefined): NodeListRead {
  if (text === undefined) return { kind: 'invalid', problem: 'cannot read it' };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { kind: 'invalid', problem: 'is not JSON' };
  }
  const parsed = nodeListSchema.safeParse(json);
  if (!parsed.success) {
    // Name the field at fault, never the value: URLs may carry passwords.
    const issue = parsed.error.issues[0]!;
    return { kind: 'invalid', problem: `${issue.path.join('.') || '(root)'}: ${issue.message}` };
  }
  return { kind: 'nodes', nodes: parsed.data.nodes };
}

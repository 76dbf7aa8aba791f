import { mkdtempSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { NodeListFile, parseNodeList } from './node-list-file';

describe('parseNodeList', () => {
  it('reads names and URLs in order', () => {
    const text = JSON.stringify({
      nodes: [
        { name: 'primary', url: 'postgres://p@h:1/app' },
        { name: 'replica-1', url: 'postgres://r@h:2/app' },
      ],
    });
    expect(parseNodeList(text)).toEqual({
      kind: 'nodes',
      nodes: [
        { name: 'primary', url: 'postgres://p@h:1/app' },
        { name: 'replica-1', url: 'postgres://r@h:2/app' },
      ],
    });
  });

  it.each([
    ['not JSON', '{nodes:', 'is not JSON'],
    ['no nodes', '{"nodes":[]}', 'nodes: lists no node'],
    ['a missing list', '{}', 'nodes:'],
    ['a bad URL', '{"nodes":[{"name":"a","url":"mysql://secret@h/x"}]}', 'nodes.0.url: must be a postgres:// URL'],
    ['a bad name', '{"nodes":[{"name":"A B","url":"postgres://h/x"}]}', 'nodes.0.name:'],
    [
      'a duplicate name',
      '{"nodes":[{"name":"a","url":"postgres://h/x"},{"name":"a","url":"postgres://h/y"}]}',
      'names a node twice',
    ],
  ])('rejects %s, naming the problem', (_, text, problem) => {
    const read = parseNodeList(text);
    expect(read.kind).toBe('invalid');
    expect((read as { problem: string }).problem).toContain(problem);
    expect((read as { problem: string }).problem).not.toContain('secret');
  });
});

describe('NodeListFile', () => {
  const dir = mkdtempSync(join(tmpdir(), 'node-list-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'nodes.json');

  it('reports a list once per change, and a missing file once', async () => {
    const file = new NodeListFile(path);
    expect(await file.read()).toMatchObject({ kind: 'invalid', problem: 'cannot read it (ENOENT)' });
    expect(await file.read()).toEqual({ kind: 'unchanged' });
    writeFileSync(path, JSON.stringify({ nodes: [{ name: 'a', url: 'postgres://h/x' }] }));
    expect(await file.read()).toMatchObject({ kind: 'nodes', nodes: [{ name: 'a' }] });
    expect(await file.read()).toEqual({ kind: 'unchanged' });
    writeFileSync(
      path,
      JSON.stringify({
        nodes: [
          { name: 'a', url: 'postgres://h/x' },
          { name: 'b', url: 'postgres://h/y' },
        ],
      }),
    );
    utimesSync(path, new Date(), new Date(Date.now() + 5000));
    expect(await file.read()).toMatchObject({ kind: 'nodes', nodes: [{ name: 'a' }, { name: 'b' }] });
  });
});

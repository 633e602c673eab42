/** `spool flow add` and `spool flow show` on a store and through a broker (`--url`): the same output both ways. */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import type { AddedFlow, Flow } from '../src/index.ts';
import { ok, spool, tempDir, UUID_RE } from './support/cli.ts';
import { served } from './support/remote.ts';

test('spool flow add and show: the parent and its children written together, the tree; bad input exits 2, an unknown flow 3; on a store and through --url', async (t) => {
  const dir = tempDir(t);
  const { broker } = await served(t);
  for (const target of [['--store', join(dir, 'data')], ['--url', broker.url]]) {
    const children = JSON.stringify([{ queue: 'resize', payload: { photo: 1 } }, { queue: 'ocr', payload: { photo: 1 }, name: 'scan' }]);
    const lines = (await ok(dir, ['flow', 'add', 'albums', '{"album":7}', '--children', children, '--on-child-failure', 'continue', ...target])).trim().split('\n');
    assert.match(lines[0]!, UUID_RE);
    assert.deepEqual(lines.slice(1).map((l) => l.split(' ')[0]), ['resize', 'ocr']);
    const shown = await ok(dir, ['flow', 'show', lines[0]!, ...target]);
    assert.match(shown, new RegExp(`^flow ${lines[0]} \\(albums\\): waiting, on child failure continue, settled -\\n`));
    assert.match(shown, /\nparent +albums +\S+ +scheduled\nchild +resize +\S+ +ready\nchild +ocr +\S+ +ready\n$/);
    const tree = JSON.parse(await ok(dir, ['flow', 'show', lines[0]!, '--json', ...target])) as Flow;
    assert.deepEqual([tree.state, tree.onChildFailure, tree.children.map((c) => c.name)], ['waiting', 'continue', ['default', 'scan']]);
    const added = JSON.parse(await ok(dir, ['flow', 'add', 'albums', '1', '--children', '[{"queue":"resize","payload":2}]', '--json', ...target])) as AddedFlow;
    assert.deepEqual([added.parent.state, added.children.length], ['scheduled', 1]);
    assert.equal((JSON.parse(await ok(dir, ['flow', 'show', added.parent.id, '--json', ...target])) as Flow).onChildFailure, 'fail', 'fail is the default');
    const bad = await spool(dir, ['flow', 'add', 'albums', '1', '--children', '[{"queue":"resize","payload":2,"priorty":1}]', ...target]);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /did you mean "priority"/);
    const unknown = await spool(dir, ['flow', 'show', added.children[0]!.id, ...target]);
    assert.equal(unknown.code, 3, unknown.stderr);
  }
});

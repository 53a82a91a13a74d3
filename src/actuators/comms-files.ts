// Writes rendered communications (the `w` key in the communications preview) into a directory.
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import type { CommsWriter } from '../runtime/ports.js';

export class DirectoryCommsWriter implements CommsWriter {
  constructor(readonly dir: string) {}

  async write(files: { name: string; text: string }[]): Promise<string> {
    await mkdir(this.dir, { recursive: true });
    // Names come from the engine (plan id, phase, template); basename keeps them inside `dir`.
    for (const f of files) await writeFile(join(this.dir, basename(f.name)), f.text, 'utf8');
    return `${files.length} file(s) in ${this.dir}`;
  }
}

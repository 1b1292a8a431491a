#!/usr/bin/env node
// Keeps the root README's reference sections identical to the workspace READMEs they come from.
// A block
//   <!-- include scheduler-extender/README.md#Configuration -->
//   ...
//   <!-- end include -->
// is replaced by the body of that `## Configuration` section (headings inside demoted one level,
// relative links rewritten to stay valid from the repository root).
//   node scripts/readme.mjs          rewrite README.md
//   node scripts/readme.mjs --check  exit 1 when README.md is out of date (run by npm test)
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const INCLUDE = /<!-- include ([^#\s]+)#([^>]+?) -->\n[\s\S]*?<!-- end include -->/g;

function section(file, title) {
  const lines = readFileSync(join(root, file), 'utf8').split('\n');
  const start = lines.findIndex((l) => /^#{2,3} /.test(l) && l.replace(/^#+ /, '') === title);
  if (start < 0) throw new Error(`${file}: no section "${title}"`);
  const level = /^(#+)/.exec(lines[start])[1].length;
  let end = lines.length;
  let fenced = false;
  for (let i = start + 1; i < lines.length; i++) {
    if (lines[i].startsWith('```')) fenced = !fenced;
    const m = /^(#+) /.exec(lines[i]);
    if (!fenced && m && m[1].length <= level) {
      end = i;
      break;
    }
  }
  const dir = dirname(file);
  fenced = false;
  return lines
    .slice(start + 1, end)
    .map((l) => {
      if (l.startsWith('```')) fenced = !fenced;
      if (fenced) return l;
      const demoted = /^#+ /.test(l) ? `#${l}` : l;
      return demoted.replace(/\]\((?!https?:|#|\/)([^)\s]+)\)/g, (_, p) => `](${normalize(join(dir, p))})`);
    })
    .join('\n')
    .trim();
}

export function render(text) {
  return text.replace(INCLUDE, (_, file, title) => {
    return `<!-- include ${file}#${title} -->\n\n${section(file, title)}\n\n<!-- end include -->`;
  });
}

const readmePath = join(root, 'README.md');
const current = readFileSync(readmePath, 'utf8');
const next = render(current);
if (process.argv.includes('--check')) {
  if (next !== current) {
    console.error('README.md is out of date with the workspace READMEs: run `node scripts/readme.mjs`');
    process.exit(1);
  }
} else if (next !== current) {
  writeFileSync(readmePath, next);
  console.log('README.md updated');
}
